#!/usr/bin/env bash
# Study v3's sweeps, their published data and the recomputed figures (about 25 min here).
#
#   1. deployed (scenarios/sweeps/study-v3-deployed.toml): the write-up's own test on 0.25 vCPU
#      (100 ms period) without and with the lognormal delay fitted to its 44 ms mean and 110 ms
#      p95: does the test reproduce both, and how much is the base (service + client)?
#   2. closed (study-v3.toml): the headline as deployed, both classes and mixes, 25-200 users,
#      no think time, the same envelope and delay;
#   3. open (study-v3-open.toml, study-v3-open-http.toml): arrivals at fixed rates over the
#      three backends (memory, postgres, postgres+cache), latency from the intended start;
#   4. payload (study-v3-payload.toml): explanation (4), both classes at 50 users with products
#      of the default size and with 16 kB descriptions;
#   5. capacity (study-v3-capacity.toml with --find-capacity): the highest arrival rate under
#      p95 < 110 ms, then under p99 < 100 ms, per backend, with the search's bracket.
# Each sweep runs into $RESULTS first; only when all have run are they packed into
# docs/study/data/v3/<name>.tar.gz (manifest.json and each run's run.json, locust.json, CSVs,
# delay_proxy.json and evidence/; not locust.html or logs), so that no sweep's manifest records
# a tree dirtied by an earlier one. Then docs/study/recompute.py re-derives every figure into
# docs/study/data/v3/figures.txt, and a report per sweep goes to docs/study/v3/<name>-report/.
#
#   docs/study/run_study_v3.sh
#   STUDY_QUICK=1 docs/study/run_study_v3.sh   # every step, tiny (1 repeat, 1 s ramp, 5 s
#                                              # window, fewer levels): about 2.5 min
#
# Run it alone on the machine (under the team's lock on a shared one:
# `flock /tmp/loadbench-load.lock docs/study/run_study_v3.sh`). Environment: STUDY_QUICK,
# RESULTS (default results), PY (python), DATA (default docs/study/data/v3), REPORTS (default
# docs/study/v3). A sweep with
# invalid points (exit 1) does not stop the study; exit 2 or more does.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
PY=${PY:-.venv/bin/python}
STUDY_QUICK=${STUDY_QUICK:-}
RESULTS=${RESULTS:-results}
DATA=${DATA:-docs/study/data/v3}
REPORTS=${REPORTS:-docs/study/v3}
QUICK=()
# (a 5 s window: the verdict needs 3 whole seconds of loop evidence; at 3 s every point of a
# tiny run on 2026-12-04 was too-few-samples)
[ -n "$STUDY_QUICK" ] && QUICK=(--repeats 1 --ramp 1s --duration 5s)
STARTED=$(date +%s)
LOG_LINES=()
note() { echo "study-v3: $*" >&2; LOG_LINES+=("- $*"); }

declare -A SWEEP_DIRS
run_sweep() {  # NAME PRESET [ARGS...]: run one sweep; SWEEP_DIRS[NAME] is its directory
  local name=$1 preset=$2; shift 2
  mkdir -p "$RESULTS"
  local before after status=0 start=$SECONDS
  before=$(ls -1 "$RESULTS")
  "$PY" -m scenarios.sweep --preset "$preset" --out "$RESULTS" "$@" >&2 || status=$?
  if [ "$status" -gt 1 ]; then
    echo "study-v3: the $name sweep ($preset) stopped with exit status $status" >&2
    exit "$status"
  fi
  after=$(comm -13 <(echo "$before" | sort) <(ls -1 "$RESULTS" | sort) | grep -- "-$preset\$" | tail -1 || true)
  [ -n "$after" ] || { echo "study-v3: cannot find the $name sweep under $RESULTS" >&2; exit 2; }
  SWEEP_DIRS[$name]="$RESULTS/$after"
  note "$name: \`$RESULTS/$after\` (preset $preset $*, exit $status, $((SECONDS - start)) s)"
}

note "started $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname) ($(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), revision $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"

if [ -n "$STUDY_QUICK" ]; then
  run_sweep deployed study-v3-deployed "${QUICK[@]}" --ramp 2s
  run_sweep closed study-v3 "${QUICK[@]}" --users 25,100
  run_sweep open study-v3-open "${QUICK[@]}" --arrival-rate 300,1000 --store memory,postgres
  run_sweep open-http study-v3-open-http "${QUICK[@]}" --arrival-rate 300 --store memory --cache off
  run_sweep payload study-v3-payload "${QUICK[@]}"
  CAPACITY=(--find-capacity --capacity-resolution 25% --capacity-repeats 1 --capacity-max-runs 4
            --ramp 1s --duration 5s --store memory --cache off)
else
  run_sweep deployed study-v3-deployed
  run_sweep closed study-v3
  run_sweep open study-v3-open
  run_sweep open-http study-v3-open-http
  run_sweep payload study-v3-payload
  CAPACITY=(--find-capacity --capacity-resolution 10% --capacity-repeats 2 --capacity-max-runs 10)
fi
run_sweep capacity-p95 study-v3-capacity "${CAPACITY[@]}" --slo 'p95<110ms'
run_sweep capacity-p99 study-v3-capacity "${CAPACITY[@]}" --slo 'p99<100ms'

# Publish: the data of every sweep, then the figures and reports from them.
mkdir -p "$DATA" "$REPORTS"
for name in deployed closed open open-http payload capacity-p95 capacity-p99; do
  sweep=${SWEEP_DIRS[$name]}
  stage=$(mktemp -d)
  mkdir -p "$stage/$name"
  cp "$sweep/manifest.json" "$stage/$name/"
  [ -f "$sweep/capacity.json" ] && cp "$sweep/capacity.json" "$stage/$name/"
  (cd "$sweep" && find runs -type f \( -name run.json -o -name locust.json -o -name 'locust_stats*.csv' \
      -o -name cpu.csv -o -name delay_proxy.json -o -path '*/evidence/*' \) -print0 \
    | xargs -0 -I{} cp --parents {} "$stage/$name/")
  tar -C "$stage" -czf "$DATA/$name.tar.gz" "$name"
  rm -rf "$stage"
  "$PY" -m analysis report "$sweep" >&2 || true
  rm -rf "${REPORTS:?}/$name-report"
  mkdir -p "$REPORTS/$name-report"
  cp "$sweep"/report/* "$REPORTS/$name-report/" 2>/dev/null || true
  "$PY" -m analysis summary "$sweep" > "$REPORTS/$name-report/summary.txt" || true
  note "$name data: \`$DATA/$name.tar.gz\` ($(du -k "$DATA/$name.tar.gz" | cut -f1) kB)"
done
"$PY" docs/study/recompute.py --data "$DATA" > "$DATA/figures.txt"
if [ "$(du -sk "$DATA" | cut -f1)" -gt 25600 ]; then  # issue 24: at most 25 MB in all
  note "WARNING: $DATA holds more than 25 MB: too much to commit"
fi
note "figures: \`$DATA/figures.txt\` ($(wc -l < "$DATA/figures.txt") figures; all data $(du -sk "$DATA" | cut -f1) kB)"
note "finished $(date -u +%Y-%m-%dT%H:%M:%SZ): $(( $(date +%s) - STARTED )) s in all"
{
  echo "# How docs/study/data/v3/ was generated"
  echo
  echo "By docs/study/run_study_v3.sh${STUDY_QUICK:+ with STUDY_QUICK=1 (tiny: not the study)}."
  echo
  printf '%s\n' "${LOG_LINES[@]}"
} > "$DATA/run.md"
echo "study-v3: written $DATA/ and $REPORTS/" >&2
