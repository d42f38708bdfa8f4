"""Coordinated omission, measured here: the closed model's latency against the open model's.

``python docs/open_model/coordinated_omission.py --measure`` (live load: run it under
``flock /tmp/loadbench-load.lock``) starts the test-only server that stalls 1 s in every 5 s
(tests/scenarios/stall_server.py) and runs headless Locust on the product locustfile against it
twice, 11 s each: the closed model (FastHttpUser, 5 users, no wait) and the open model (100
arrivals/s, a pool of 150 users). It writes the percentiles of each HDR histogram (µs, 3
significant figures) to ``coordinated_omission.json`` beside this file, then draws the figure.

``python docs/open_model/coordinated_omission.py`` redraws ``coordinated_omission.png`` from
the JSON committed with it (no load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA, FIGURE = HERE / "coordinated_omission.json", HERE / "coordinated_omission.png"
FRACTIONS = (0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)
SECONDS = 11


def _locust(host: str, directory: Path, *args: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "scenarios/locustfile.py", "FastProductUser",
         "--headless", "--host", host, "-t", f"{SECONDS}s", "--only-summary", "--reset-stats",
         "--mix", "read-only", "--seed-products", "20", *args],
        cwd=REPO, capture_output=True, text=True, timeout=SECONDS + 60,
        env={**os.environ, "LOADBENCH_EVIDENCE_DIR": str(directory)})
    if result.returncode != 0:
        raise SystemExit(f"locust failed: {result.stderr[-2000:]}")


def _spectrum(histogram: Any) -> dict[str, Any]:
    from scenarios.instrumentation import percentile_ms

    return {"count": histogram.get_total_count(), "max_ms": histogram.get_max_value() / 1000.0,
            "percentiles_ms": {f"{100 * f:g}": percentile_ms(histogram, f) for f in FRACTIONS}}


def measure() -> dict[str, Any]:
    """Run both models against the stalling server; the percentiles of each histogram."""
    sys.path.insert(0, str(REPO))
    from scenarios.instrumentation import read_evidence
    from scenarios.open_model import evidence

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = subprocess.Popen([sys.executable, str(REPO / "tests/scenarios/stall_server.py"),
                               str(port)], stdout=subprocess.PIPE, text=True)
    host = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory(prefix="loadbench-co-") as scratch:
            closed_dir, open_dir = Path(scratch) / "closed", Path(scratch) / "open"
            _locust(host, closed_dir, "-u", "5", "-r", "5")
            _locust(host, open_dir, "--arrival-rate", "100", "--max-users", "150")
            closed, _files = read_evidence(closed_dir)
            document = evidence.read(open_dir)
            assert closed is not None and document is not None
            intended = evidence.decode(document["histograms"]["intended_us"])
            service = evidence.decode(document["histograms"]["service_us"])
            counts = evidence.summary(document)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "what": "stall server (1 s stall in every 5 s), FastHttpUser, read-only mix, 11 s each",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.node()}: {os.cpu_count()} CPUs, {platform.platform()}",
        "command": "flock /tmp/loadbench-load.lock .venv/bin/python "
                   "docs/open_model/coordinated_omission.py --measure",
        "closed": {"model": "closed, 5 users, no wait (latency from each request's send)",
                   **_spectrum(closed)},
        "open_intended": {"model": "open, 100 arrivals/s, pool 150: latency from the intended "
                                   "start", **_spectrum(intended)},
        "open_service": {"model": "open, 100 arrivals/s, pool 150: service time (from the "
                                  "actual send)", **_spectrum(service)},
        "open_counts": {key: counts[key] for key in ("intended", "started", "dropped")},
    }


def draw(data: dict[str, Any]) -> None:
    """The percentile spectrum of each histogram (x: the percentile on a nines scale)."""
    import math

    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 3.6), layout="constrained")
    axes = figure.subplots()
    styles = {"closed": ("#D55E00", "-"), "open_intended": ("#0072B2", "-"),
              "open_service": ("#0072B2", ":")}
    for key, (colour, style) in styles.items():
        series = data[key]["percentiles_ms"]
        xs = [-math.log10(1 - float(p) / 100) for p in series]
        ys = [max(float(v), 0.01) for v in series.values()]
        axes.plot(xs, ys, color=colour, linestyle=style, marker="o", markersize=3,
                  label=f"{data[key]['model']} ({data[key]['count']:,} requests)")
    ticks = [-math.log10(1 - f) for f in FRACTIONS]
    axes.set_xticks(ticks, [f"p{100 * f:g}" for f in FRACTIONS], fontsize=8)
    axes.set_yscale("log")
    axes.set_ylabel("latency (ms, log scale)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="center right", frameon=True)
    axes.set_title(f"Coordinated omission, measured {data['measured_at'][:10]}:\n{data['what']}",
                   fontsize=9, loc="left")
    figure.savefig(FIGURE, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true",
                        help="run the live measurement first (about 30 s of load)")
    if parser.parse_args().measure:
        DATA.write_text(json.dumps(measure(), indent=2) + "\n")
    draw(json.loads(DATA.read_text()))
    print(FIGURE)


if __name__ == "__main__":
    main()
