#!/bin/sh
# Regenerate tests/data/sweep: a small real sweep written by the real sweep runner.
# Both user classes, one mix, 2 concurrency levels, 2 repeats, 3 s windows (about a minute).
# Locust's locust.html (about 1 MB each) is dropped to keep the fixture small; nothing reads it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$repo"
# Locust exits 1 and the runner may exit non-zero when a point is not valid: that is data too.
"$python" -m scenarios.sweep --user-classes http,fast --mixes read-heavy --users 1,10 \
    --repeats 2 --ramp 1s --duration 3s --processes 1 --seed-products 100 \
    --out "$scratch" || true
sweep=$(find "$scratch" -mindepth 1 -maxdepth 1 -type d | head -n 1)
test -f "$sweep/manifest.json"
find "$sweep" -name locust.html -delete
rm -rf "$sweep/report"
rm -rf "$here/sweep"
cp -r "$sweep" "$here/sweep"
du -sh "$here/sweep"
