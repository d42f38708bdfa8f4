#!/usr/bin/env bash
# Regenerate everything in docs/study/ (`make study`): the seed sweep (the original write-up's
# test), the study sweep (--processes auto), the wrk cross-check, and the analysis report of each
# sweep, copied into docs/study/{seed-report,study-report,crosscheck}/ with a run log (run.md).
#
#   docs/study/run_study.sh                         # the full study, about 30 min here
#   STUDY_PRESET=quick SEED_PRESET=quick CROSSCHECK_USERS=10 docs/study/run_study.sh  # ~3 min
#   STUDY_HOST="$(terraform -chdir=terraform output -raw service_url)" docs/study/run_study.sh  # deployed
#
# Environment: STUDY_HOST (a running service; default: the local service the runner starts),
# STUDY_PRESET (default study), SEED_PRESET (default seed): a preset name or a .toml file,
# CROSSCHECK_USERS (default 1,2,5,10,20,50), RESULTS (sweeps' parent, default results), PY (python).
# The sweeps stay under results/ (their directories are named in run.md). A sweep or cross-check
# with invalid points (exit 1) does not stop the study: the reports show the verdicts. A usage
# error, a target that does not answer, or an interruption (exit 2 or more) stops it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
PY=${PY:-.venv/bin/python}
STUDY_HOST=${STUDY_HOST:-}
STUDY_PRESET=${STUDY_PRESET:-study}
SEED_PRESET=${SEED_PRESET:-seed}
CROSSCHECK_USERS=${CROSSCHECK_USERS:-1,2,5,10,20,50}
RESULTS=${RESULTS:-results}
DOCS=docs/study
HOST_ARGS=()
[ -n "$STUDY_HOST" ] && HOST_ARGS=(--host "$STUDY_HOST")

STARTED=$(date +%s)
LOG_LINES=()
note() {  # one line on stderr and in run.md
  echo "study: $*" >&2
  LOG_LINES+=("- $*")
}

# Run one sweep; set SWEEP_DIR to the directory it wrote (the new one under $RESULTS named after it).
run_sweep() {
  local label=$1 preset=$2; shift 2
  local source suffix
  if [[ $preset == *.toml ]]; then source=(--config "$preset"); suffix=sweep
  else source=(--preset "$preset"); suffix=$preset; fi
  mkdir -p "$RESULTS"
  local before after status=0 start=$SECONDS
  before=$(ls -1 "$RESULTS")
  "$PY" -m scenarios.sweep "${source[@]}" --out "$RESULTS" "${HOST_ARGS[@]}" "$@" >&2 || status=$?
  if [ "$status" -gt 1 ]; then
    echo "study: the $label sweep ($preset) stopped with exit status $status" >&2
    exit "$status"
  fi
  after=$(comm -13 <(echo "$before" | sort) <(ls -1 "$RESULTS" | sort) | grep -- "-$suffix\$" | tail -1 || true)
  if [ -z "$after" ]; then
    echo "study: cannot find the $label sweep's directory under $RESULTS" >&2
    exit 2
  fi
  note "$label sweep: \`$RESULTS/$after\` (preset $preset, exit $status: $([ $status = 0 ] && echo 'every point valid' || echo 'some point not valid'), $((SECONDS - start)) s)"
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

note "started $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname), revision $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)'), target ${STUDY_HOST:-local service started by the runner}"

run_sweep seed "$SEED_PRESET"
SEED_DIR=$SWEEP_DIR
run_sweep study "$STUDY_PRESET" --processes auto
STUDY_DIR=$SWEEP_DIR

# The effect of adding generator processes: the study's read-heavy points at 50 and 200 users
# again with a master and 2 workers on the same generator CPUs, compared point by point.
if [ -z "$STUDY_HOST" ]; then
  run_sweep processes "$STUDY_PRESET" --processes 2 --mixes read-heavy --users 50,200 --repeats 1
  PROCESSES_DIR=$SWEEP_DIR
  rm -rf "${DOCS:?}/processes"
  mkdir -p "$DOCS/processes"
  status=0
  "$PY" -m analysis compare "$STUDY_DIR" "$PROCESSES_DIR" --html "$DOCS/processes/compare.html" \
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
status=0
"$PY" bench/crosscheck_wrk.py --users "$CROSSCHECK_USERS" --out "$CROSSCHECK_DIR" "${HOST_ARGS[@]}" >&2 || status=$?
if [ "$status" -gt 1 ]; then
  echo "study: the cross-check stopped with exit status $status" >&2
  exit "$status"
fi
rm -rf "${DOCS:?}/crosscheck"
mkdir -p "$DOCS/crosscheck"
cp "$CROSSCHECK_DIR/crosscheck.md" "$CROSSCHECK_DIR/crosscheck.json" "$DOCS/crosscheck/"
note "cross-check: \`$CROSSCHECK_DIR\` -> \`$DOCS/crosscheck/\` (users $CROSSCHECK_USERS, exit $status, $((SECONDS - start)) s)"

publish_report "$SEED_DIR" seed-report
publish_report "$STUDY_DIR" study-report

note "finished $(date -u +%Y-%m-%dT%H:%M:%SZ): $(( $(date +%s) - STARTED )) s in all"
{
  echo "# How docs/study/ was generated"
  echo
  echo "By \`make study\` (docs/study/run_study.sh), seed preset \`$SEED_PRESET\`, study preset"
  echo "\`$STUDY_PRESET\`, cross-check users \`$CROSSCHECK_USERS\`."
  echo
  printf '%s\n' "${LOG_LINES[@]}"
} > "$DOCS/run.md"
echo "study: written $DOCS/run.md, $DOCS/seed-report/, $DOCS/study-report/, $DOCS/crosscheck/" >&2
