"""The verdict vocabulary: every status a run can get, most severe first, and how they rank.

The runner gives each run the first status of ``STATUSES`` that applies (results/README.md,
"Verdicts"); the analysis ranks a configuration by the most severe status among its repeats.
Both read this one tuple, so they cannot rank differently.

Room for new statuses: ``RESERVED`` names the statuses other work is adding (a verdict signal is
a probe plus a rule, ARCHITECTURE.md). One is added by moving it into ``STATUSES`` at its
place (its rank) and documenting it in results/README.md's verdict table: a test checks that the
two agree.

- ``not-steady`` (in ``STATUSES`` since issue 20): the window's throughput or latency drifted
  (no steady state), so a mean of it describes no single load; ranks after ``generator-bound``
  (a generator that ran out usually drifts too: the cause comes first);
- ``client-dominated`` (in ``STATUSES`` since issue 20): most of the client-seen latency is the
  client's own calibrated time, so the latency describes Locust, not the service (its
  throughput may still answer a capacity question); ranks just before ``valid``;
- ``dropped-arrivals``: an open-model point whose generator dropped more than a threshold of its
  intended arrivals (issue 21), so its offered rate was not the rate applied; ranks before
  ``generator-bound``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CLIENT_DOMINATED",
    "FAILED",
    "FAULTS",
    "GENERATOR_BOUND",
    "INCONSISTENT",
    "INTERRUPTED",
    "MEANINGS",
    "NOT_STEADY",
    "ORDER",
    "READER_STATUSES",
    "RESERVED",
    "STATUSES",
    "SUT_ERRORS",
    "TOO_FEW_SAMPLES",
    "TRUSTED",
    "UNCHECKED",
    "UNKNOWN",
    "VALID",
    "grade",
    "is_trusted",
    "rank",
    "worst",
]

INTERRUPTED = "interrupted"
FAILED = "failed"
TOO_FEW_SAMPLES = "too-few-samples"
SUT_ERRORS = "sut-errors"
INCONSISTENT = "inconsistent"
GENERATOR_BOUND = "generator-bound"
NOT_STEADY = "not-steady"
CLIENT_DOMINATED = "client-dominated"
VALID = "valid"

# Every status the runner writes, most severe first: the first that applies is the status.
STATUSES: tuple[str, ...] = (INTERRUPTED, FAILED, TOO_FEW_SAMPLES, SUT_ERRORS, INCONSISTENT,
                             GENERATOR_BOUND, NOT_STEADY, CLIENT_DOMINATED, VALID)
# What each status says about a point's figures, in one sentence for a reader (the report's
# explanations; results/README.md's verdict table gives the thresholds). Every status has one.
MEANINGS: dict[str, str] = {
    INTERRUPTED: "the run was stopped before its window ended",
    FAILED: "Locust crashed or exited abnormally",
    TOO_FEW_SAMPLES: "too few requests in the window to trust the figures",
    SUT_ERRORS: "the service returned too many unexpected errors",
    INCONSISTENT: "the window's own figures contradict each other (Little's law)",
    GENERATOR_BOUND: "the load generator, not the service, limited the figures",
    NOT_STEADY: "the window's throughput or latency drifted, so its means describe no single "
                "state of the service",
    CLIENT_DOMINATED: "most of the client-seen latency is the client's own time, so the latency "
                      "describes Locust (the throughput may still answer a capacity question)",
    VALID: "the figures describe the service",
}
# Reserved for signals being added; not written by any runner yet (see the module docstring).
RESERVED: tuple[str, ...] = ("dropped-arrivals",)

# Statuses only a reader gives: plain Locust output with no CPU evidence (``unchecked``) and a
# run.json without a verdict (``unknown``). Neither is trusted; both rank just above ``valid``.
UNCHECKED = "unchecked"
UNKNOWN = "unknown"
READER_STATUSES: tuple[str, ...] = (UNCHECKED, UNKNOWN)

# The full ranking, most severe first: a configuration that is not valid takes the first status
# any of its repeats has.
ORDER: tuple[str, ...] = (*STATUSES[:-1], *READER_STATUSES, VALID)
# The only status whose figures describe the service.
TRUSTED: tuple[str, ...] = (VALID,)
# The statuses where the service erred or the run broke: worse, for a comparison, than a
# measurement that merely cannot be trusted.
FAULTS: tuple[str, ...] = (FAILED, SUT_ERRORS)


def rank(status: str) -> int:
    """The status' severity rank: 0 is the most severe; a status not known here ranks first
    (a newer runner's status is never taken for a better one)."""
    try:
        return ORDER.index(status)
    except ValueError:
        return -1


def grade(status: str) -> int:
    """How bad a status is for a comparison or a badge: 0 trusted (``valid``), 2 a fault of the
    service or the run (``FAULTS``), 1 anything else (the figures cannot be trusted, including
    a status not known here)."""
    if status in TRUSTED:
        return 0
    return 2 if status in FAULTS else 1


def worst(statuses: Iterable[str]) -> str:
    """The most severe of ``statuses`` ("" for none)."""
    return min(statuses, key=rank, default="")


def is_trusted(status: str) -> bool:
    """True for the statuses whose figures describe the service (``valid``)."""
    return status in TRUSTED
