#!/usr/bin/env bash
# Regenerate everything in docs/study/ (`make study`, about 30 min here): study v2.
#
#   1. headline  (scenarios/sweeps/study.toml): both classes, two mixes, 1-500 users, the service
#      in a CPU envelope sized here (--service-cpu auto) behind 10 ms of added round trip;
#   2. deployed  (deployed.toml): the write-up's own test as deployed (0.25 vCPU, 40 ms);
#   3. latency   (latency.toml): explanation (2), added round trip 0, 10, 40 ms;
#   4. payload:  explanation (4), the headline's envelope at 50 users, small vs 16 KB products;
#   5. storage:  memory, postgres, postgres + cache at the headline's envelope and at 0.25 vCPU;
#   6. processes: 2 Locust workers at the envelope, compared with the headline (compare --html);
#   7. the wrk cross-check at the headline's envelope: wrk and Locust interleaved, 3 rounds.
# Each sweep's report goes to docs/study/<name>-report/, with run.md (the log of this run).
#
#   docs/study/run_study.sh
#   STUDY_QUICK=1 docs/study/run_study.sh        # every step, tiny: ~5 min, for trying it out
#
# Environment: STUDY_HOST (a deployed service: the envelope and the added delay are a local
# emulation and are skipped, with the runner's note), STUDY_QUICK, RESULTS (default results),
# PY (python). A sweep or cross-check with invalid points (exit 1) does not stop the study: the
# reports show the verdicts. A usage error, a target that does not answer, or an interruption
# (exit 2 or more) stops it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
PY=${PY:-.venv/bin/python}
STUDY_HOST=${STUDY_HOST:-}
STUDY_QUICK=${STUDY_QUICK:-}
RESULTS=${RESULTS:-results}
DOCS=docs/study
HOST_ARGS=()
[ -n "$STUDY_HOST" ] && HOST_ARGS=(--host "$STUDY_HOST")
QUICK=()  # with STUDY_QUICK: one repeat, short windows, few levels
[ -n "$STUDY_QUICK" ] && QUICK=(--repeats 1 --ramp 1s --duration 3s)

STARTED=$(date +%s)
LOG_LINES=()
note() {  # one line on stderr and in run.md
  echo "study: $*" >&2
  LOG_LINES+=("- $*")
}

# Run one sweep; set SWEEP_DIR to the directory it wrote (the new one under $RESULTS named after it).
run_sweep() {
  local label=$1 preset=$2; shift 2
  mkdir -p "$RESULTS"
  local before after status=0 start=$SECONDS
  before=$(ls -1 "$RESULTS")
  "$PY" -m scenarios.sweep --preset "$preset" --out "$RESULTS" "${HOST_ARGS[@]}" "$@" >&2 || status=$?
  if [ "$status" -gt 1 ]; then
    echo "study: the $label sweep ($preset) stopped with exit status $status" >&2
    exit "$status"
  fi
  after=$(comm -13 <(echo "$before" | sort) <(ls -1 "$RESULTS" | sort) | grep -- "-$preset\$" | tail -1 || true)
  if [ -z "$after" ]; then
    echo "study: cannot find the $label sweep's directory under $RESULTS" >&2
    exit 2
  fi
  note "$label sweep: \`$RESULTS/$after\` (preset $preset $*, exit $status: $([ $status = 0 ] && echo 'every point valid' || echo 'some point not valid'), $((SECONDS - start)) s)"
  SWEEP_DIR="$RESULTS/$after"
}

# Write the analysis report of a sweep and copy it (and the manifest) to docs/study/NAME/.
publish_report() {
  local sweep=$1 name=$2 start=$SECONDS
  "$PY" -m analysis report "$sweep" >&2
  rm -rf "${DOCS:?}/$name"
  mkdir -p "$DOCS/$name"
  cp "$sweep"/report/* "$DOCS/$name/"
  cp "$sweep/manifest.json" "$DOCS/$name/manifest.json"
  "$PY" -m analysis summary "$sweep" > "$DOCS/$name/summary.txt"
  note "$name: \`$DOCS/$name/\` ($(ls "$DOCS/$name" | tr '\n' ' '), $((SECONDS - start)) s)"
}

note "started $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname) ($(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), revision $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)'), target ${STUDY_HOST:-local service started by the runner}"

if [ -n "$STUDY_QUICK" ]; then
  run_sweep headline study "${QUICK[@]}" --users 1,10,50
else
  run_sweep headline study
fi
HEADLINE_DIR=$SWEEP_DIR
# the envelope the headline sized here (none for a deployed target): the other sweeps reuse it
ENVELOPE=$("$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); print((m["matrix"]["service_cpu"] or ["none"])[0])' "$HEADLINE_DIR/manifest.json")
note "envelope: $ENVELOPE vCPU (the headline's --service-cpu auto; the figures are in its manifest, target.cpu_limit_auto)"
publish_report "$HEADLINE_DIR" study-report

run_sweep deployed deployed "${QUICK[@]}"
publish_report "$SWEEP_DIR" deployed-report

run_sweep latency latency "${QUICK[@]}"
publish_report "$SWEEP_DIR" latency-report

run_sweep payload study "${QUICK[@]}" --mixes read-heavy --users 50 --payload small,16k --service-cpu "$ENVELOPE"
publish_report "$SWEEP_DIR" payload-report

if [ -z "$STUDY_HOST" ]; then
  # Two envelopes: the headline's (sized on the memory store, so the database must share a
  # fraction of a core) and Fargate's smallest task (0.25 vCPU), where the database fits.
  run_sweep storage study "${QUICK[@]}" --user-classes fast --users 50 --store memory,postgres --cache off,on --service-cpu "$ENVELOPE,fargate-256"
  publish_report "$SWEEP_DIR" storage-report

  # The effect of adding generator processes where the service saturates: the headline's
  # read-heavy points at 50 and 200 users again with a master and 2 workers, compared point by point.
  run_sweep processes study --processes 2 --mixes read-heavy --users 50,200 --repeats 1 --service-cpu "$ENVELOPE" ${STUDY_QUICK:+--ramp 1s --duration 3s}
  PROCESSES_DIR=$SWEEP_DIR
  rm -rf "${DOCS:?}/processes"
  mkdir -p "$DOCS/processes"
  status=0
  "$PY" -m analysis compare "$HEADLINE_DIR" "$PROCESSES_DIR" --html "$DOCS/processes/compare.html" \
    > "$DOCS/processes/compare.md" || status=$?
  if [ "$status" -eq 2 ] || [ "$status" -gt 3 ]; then  # 1: changes found, 3: nothing comparable
    echo "study: comparing the processes sweep failed with exit status $status" >&2
    exit "$status"
  fi
  "$PY" -m analysis summary "$PROCESSES_DIR" > "$DOCS/processes/summary.txt"
  cp "$PROCESSES_DIR/manifest.json" "$DOCS/processes/manifest.json"
  note "processes: \`$DOCS/processes/\` (compare.html, compare.md; compare exit $status)"
fi

start=$SECONDS
CROSSCHECK_DIR="$RESULTS/crosscheck-$(date -u +%Y%m%dT%H%M%SZ)"
CROSSCHECK_ARGS=(--users 10,50)
[ -n "$STUDY_QUICK" ] && CROSSCHECK_ARGS=(--users 50 --rounds 1 --ramp 1s --duration 3s)
[ -z "$STUDY_HOST" ] && [ "$ENVELOPE" != none ] && CROSSCHECK_ARGS+=(--service-cpu "$ENVELOPE")
status=0
"$PY" -m bench.crosscheck_wrk "${CROSSCHECK_ARGS[@]}" --out "$CROSSCHECK_DIR" "${HOST_ARGS[@]}" >&2 || status=$?
if [ "$status" -gt 1 ]; then
  echo "study: the cross-check stopped with exit status $status" >&2
  exit "$status"
fi
rm -rf "${DOCS:?}/crosscheck"
mkdir -p "$DOCS/crosscheck"
cp "$CROSSCHECK_DIR/crosscheck.md" "$CROSSCHECK_DIR/crosscheck.json" "$DOCS/crosscheck/"
note "cross-check: \`$CROSSCHECK_DIR\` -> \`$DOCS/crosscheck/\` (${CROSSCHECK_ARGS[*]}, exit $status, $((SECONDS - start)) s)"

# The first screen of the headline's report, as a reader opens it (1400 x 900), for the READMEs.
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$BROWSER" ]; then
  "$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,900 \
    --screenshot="$REPO/$DOCS/study-report-first-screen.png" \
    "file://$REPO/$DOCS/study-report/index.html" >/dev/null 2>&1 \
    && note "first screen: \`$DOCS/study-report-first-screen.png\` (headless Chromium, 1400 x 900)"
fi

note "finished $(date -u +%Y-%m-%dT%H:%M:%SZ): $(( $(date +%s) - STARTED )) s in all"
{
  echo "# How docs/study/ was generated"
  echo
  echo "By \`make study\` (docs/study/run_study.sh)${STUDY_QUICK:+ with STUDY_QUICK=1 (tiny)}."
  echo
  printf '%s\n' "${LOG_LINES[@]}"
} > "$DOCS/run.md"
echo "study: written $DOCS/run.md and the reports under $DOCS/" >&2
