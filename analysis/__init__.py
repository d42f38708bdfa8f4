"""Analysis of load-test sweeps (results/README.md) and plain Locust output."""

from analysis._errors import AnalysisError
from analysis.capacity import UslFit, capacity_table, fit_usl
from analysis.checks import littles_law, untrusted
from analysis.compare import class_ratio, compare_sweeps, mix_ratio, ratio_ci
from analysis.histograms import merge, percentile, percentiles
from analysis.loading import Sweep, load, load_history, load_locust_csv, load_sweep
from analysis.stats import mean_ci, summarise

__all__ = [
    "AnalysisError", "Sweep", "UslFit", "capacity_table", "class_ratio", "compare_sweeps",
    "fit_usl", "littles_law", "load", "load_history", "load_locust_csv", "load_sweep",
    "mean_ci", "merge", "mix_ratio", "percentile", "percentiles", "ratio_ci", "summarise",
    "untrusted",
]
