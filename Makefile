# The README's two set-up commands are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := wrk buildah debootstrap postgresql redis-server chromium

.PHONY: help venv demo-venv system-deps demo notebooks test check lint bench bench-service bench-storage bench-scenarios bench-open-model bench-capacity bench-sweep bench-analysis \
        bench-instrumentation bench-cpu-period study deploy destroy remote-sweep remote-fetch clean

help:
	@echo "make demo    start the service on loopback, run the quick sweep, write the report"
	@echo "make byo-demo  sweep pypiserver with its own locustfile (docs/byo/), write the report"
	@echo "make notebooks  open JupyterLab on notebooks/ with the project's venv"
	@echo "make test    the whole test suite (installs the venv and system packages first)"
	@echo "make check   lint and the quick tier: every test without live load, container or Terraform"
	@echo "make lint    ruff and mypy"
	@echo "make bench   every benchmark (bench-service, bench-storage, bench-scenarios, bench-instrumentation, bench-open-model, bench-sweep, bench-analysis)"
	@echo "make study   the study of record, v3 (39 minutes here, alone on the machine): data under docs/study/data/v3/"
	@echo "make study-v2   the previous study (about 32 minutes): reports under docs/study/*-report/"
	@echo "AWS (terraform/README.md): make preflight | deploy | remote-sweep ARGS=... | remote-fetch SWEEP=..."
	@echo "     remote-report SWEEP=... | status | pause | resume | locust-ui | destroy   (AUTO_APPROVE=1: unattended)"

venv: $(VENV)/.installed

# Installs into a venv ($(1): its python) what pip would ($(2): pip's arguments), through uv when
# uv installs (PyPI's wheel; uv is then in that venv), else through pip. The same packages at the
# same versions: from a fresh venv the dev extra took 5.4 s with uv (its own install included)
# against 45.8 s with pip 26 (and its 1.3 s upgrade), both with cold caches, on 2026-12-05 on the
# 2-core machine. pip's warnings about this machine's missing local indexes are dropped.
define pip_install
$(1) -m pip install --quiet uv 2>&1 | grep -v "^WARNING: Location" || true; \
if $(1) -m uv --version >/dev/null 2>&1; then $(1) -m uv pip install --quiet --python $(1) $(2); \
else $(1) -m pip install --quiet $(2) 2>&1 | grep -v "^WARNING: Location" || true; fi
endef

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(call pip_install,$(PY),-e '.[dev]')
	$(PY) -c "import target_service, scenarios, analysis, locust, starlette, pandas"
	touch $@

# The demo needs only the service, the load generator and the analysis: not the test tools.
# A venv made by `make venv` has all of them already; the stamp then costs one quick pip check.
demo-venv: $(VENV)/.demo-installed
DEMO_EXTRAS := .[service,loadgen,analysis]

$(VENV)/.demo-installed: pyproject.toml
	@test -x $(PY) || { echo "demo: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "demo: installing the service, Locust and the analysis into $(VENV)"
	@$(call pip_install,$(PY),-e '$(DEMO_EXTRAS)')
	@$(PY) -c "import target_service, scenarios, analysis, analysis.report, locust, starlette, pandas"
	@touch $@

# Debian packages the benchmarks (wrk), the container tests (buildah, debootstrap), the
# postgres backend's tests, sweeps and benchmarks (postgresql, redis-server; started by them) and
# the report tests (chromium, headless) need.
system-deps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The whole suite, every tier (what CI runs through .ci/run), in three runs: first every test
# that puts no live load (the quick tier, the container and Terraform tests) on both CPUs at
# once (pytest-xdist, one module per worker: nothing there measures CPU), then the live-load
# tests one at a time. All runs always run; the status is the first failure's. --durations:
# the slowest tests, so the 12-minute budget stays visible.
# The first run takes three workers on two CPUs: much of it waits (Terraform's provider polls
# moto, services start, Chromium renders), and a third worker fills those waits. Bytecode is
# written even where the environment says not to (PYTHONDONTWRITEBYTECODE): every test process
# and every service or Locust process it starts would otherwise compile the project anew.
# The apply of the AWS stack to moto (APPLY_TEST, 210-250 s, mostly the provider's own waits)
# runs from the start in a pytest process of its own, beside the first run instead of inside
# it, in its own session (setsid: an interrupted `make test` stops it and all it started); its
# output follows the first two runs'. Its last minute is the destroy waiting on the provider's
# fixed delays (the machine idle, measured with vmstat), so the live-load tests marked any_cpu,
# whose assertions do not depend on the CPU their runs get (what was counted, written, named,
# exited), run then, on three workers like the first run; the other live-load tests start after
# the apply has ended, alone: their verdicts depend on the CPU they get, and the apply's
# Terraform runs take up to both CPUs.
APPLY_TEST := tests/deploy/test_terraform_apply.py
test: venv system-deps
	@status=0; unset PYTHONDONTWRITEBYTECODE; log=$$(mktemp); \
	setsid -w $(PY) -m pytest -p no:cacheprovider -m "not load" --durations=5 $(APPLY_TEST) \
	  >"$$log" 2>&1 </dev/null & lane=$$!; \
	trap '[ -z "$$lane" ] || kill -TERM -$$lane 2>/dev/null; rm -f "$$log"' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(PY) -m pytest -n 3 --dist loadscope -m "not load" --deselect $(APPLY_TEST) --durations=15 \
	  || status=$$?; \
	echo "--- the live-load tests marked any_cpu, together, beside the end of $(APPLY_TEST):"; \
	$(PY) -m pytest -n 3 --dist loadscope -m "load and any_cpu" --durations=10 \
	  || { s=$$?; [ $$status -ne 0 ] || status=$$s; }; \
	wait $$lane; s=$$?; kill -TERM -$$lane 2>/dev/null; lane=; [ $$status -ne 0 ] || status=$$s; \
	echo "--- $(APPLY_TEST), run beside the above:"; cat "$$log"; \
	echo "--- the other live-load tests, alone:"; \
	$(PY) -m pytest -m "load and not any_cpu" --durations=15 || { s=$$?; [ $$status -ne 0 ] || status=$$s; }; \
	exit $$status

# The quick tier: lint, then every test that needs no live load, container or Terraform (the
# markers load, container and terraform; tests/_tiers.py checks that each test carries its own).
# mypy runs beside the tests (a fresh clone has no mypy cache: about 15 s of one CPU here, the
# tests' start-up and collection leave room for it); its report follows theirs. The status is
# the first failure's: ruff, the tests, then mypy.
QUICK_TIER := not load and not container and not terraform
check: venv system-deps
	$(VENV)/bin/ruff check .
	@typing=$$(mktemp); $(VENV)/bin/mypy >"$$typing" 2>&1 & mypy=$$!; \
	$(PY) -m pytest -q -n 2 --dist loadscope -m "$(QUICK_TIER)"; status=$$?; \
	wait $$mypy; typed=$$?; echo "$(VENV)/bin/mypy"; cat "$$typing"; rm -f "$$typing"; \
	[ $$status -ne 0 ] && exit $$status; exit $$typed

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# --- main job -----------------------------------------------------------------------------------
# The quick sweep (scenarios/sweeps/quick.toml: fargate-256 behind a 10 ms added round trip,
# about 80 s) against a local service it starts itself, then the report of results/latest. A
# point that is not valid (e.g. generator-bound) makes the sweep exit 1; the demo still writes
# the report, which shows the verdicts.
demo: demo-venv
	@echo "demo: the quick sweep: 6 points, each against a fresh service on loopback in the fargate-256 envelope behind a 10 ms added round trip (about 80 s)"
	@$(PY) -m scenarios.sweep --preset quick --out results; status=$$?; \
	  if [ $$status -gt 1 ]; then exit $$status; fi
	@echo "demo: writing the report"
	@report=$$($(PY) -m analysis report results/latest) && \
	  echo "demo: done. Open the report (one self-contained HTML file, works offline):" && \
	  echo "$$report"

# Bring your own test (docs/byo/README.md): pypiserver, a small real web application from PyPI,
# on gunicorn, swept with its own locustfile (docs/byo/locustfile.py) through the suite's
# instrumentation plugin, its Prometheus histogram read at the window's edges, then the report.
.PHONY: byo-demo
byo-demo: demo-venv $(VENV)/.byo-installed
	$(PY) docs/byo/demo.py --out results

$(VENV)/.byo-installed: pyproject.toml
	$(call pip_install,$(PY),-e '.[byo]')
	touch $@

# JupyterLab on notebooks/ with the project's venv; JupyterLab itself (the `jupyter` extra, about
# 40 packages) is installed on first use only: the tests run the notebooks with papermill instead.
notebooks: $(VENV)/.jupyter-installed
	cd notebooks && ../$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

$(VENV)/.jupyter-installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(call pip_install,$(PY),-e '.[jupyter]')
	touch $@

# --- benchmarks ---------------------------------------------------------------------------------
bench: bench-service bench-storage bench-scenarios bench-instrumentation bench-open-model bench-capacity bench-sweep \
       bench-analysis

# The service vs a bare ASGI app on the same uvicorn settings, wrk on loopback, pinned (~60 s).
bench-service: venv system-deps
	$(PY) -m bench.service

# The postgres backend (cache off) vs a bare ASGI app doing the same asyncpg query with the same
# pool, the Redis hit path vs a bare app doing the same GET, all pinned with the database and
# cache on the app's CPU, wrk on another; and the per-point reset of 1,000 products (~60 s).
bench-storage: venv system-deps
	$(PY) -m bench.storage

# The CPU envelope's quota period: one service at 0.25 vCPU under wrk, periods 100/50/20/10/5 ms
# interleaved in rounds (scenarios/README.md, "CPU envelope") (~2 min). Not part of `make bench`.
bench-cpu-period: venv system-deps
	$(PY) -m bench.cpu_period --rounds 3 --connections 50 --periods 100,50,20,10,5

# `--service-cpu auto` three times in a row (its probes under the quota and the delay), and the
# spread of the vCPUs chosen against the ±20% target (~2-3 min). Not part of `make bench`.
.PHONY: bench-auto-envelope
bench-auto-envelope: venv
	$(PY) -m bench.auto_envelope --runs 3

# `--duration auto` on a steady point (fast, 10 users x rate:50), 3 repeats: each window stops by
# convergence within twice its minimum (10 s) (~1.5 min). Not part of `make bench`.
.PHONY: bench-duration-auto
bench-duration-auto: venv
	$(PY) -m bench.duration_auto --repeats 3

# Scenario user classes vs bare Locust users, req/s per core, Locust and service pinned (~3 min).
bench-scenarios: venv
	$(PY) -m bench.user_classes

# The open model's generator CPU per request vs the closed loop on the same (Poisson) schedule,
# and its schedule lag p99, at half the closed loop's saturated rate, under the load lock (~2 min).
bench-open-model: venv
	$(PY) -m bench.open_model

# --find-capacity against a dense sweep's SLO crossing at 0.85-1.15x the capacity found (issue
# 21's 15%), over rounds: the capacity of a small service moves from run to run.
bench-capacity: venv
	$(PY) -m bench.capacity_search

# The sweep runner's own overhead: wall time / (ramps as run + windows) of a 6-point sweep, <= 1.10,
# and where the rest went (~65 s).
bench-sweep: venv
	$(PY) -m bench.sweep_overhead

# The instrumentation's CPU per request in-process (Locust's request event fired N times with and
# without it, CPU time), the loop probe's share of a core, and the window's edges against the CPU of
# a 1 s window: instrumented/uninstrumented >= 0.95, edges <= 1% (~30 s, no load, no lock).
bench-instrumentation: venv
	$(PY) -m bench.instrumentation_cost

# Analysis: 1M-row history load vs pandas.read_csv (<= 2x) and a 48-point report (< 15 s) (~40 s).
bench-analysis: venv
	$(PY) -m bench.bench_analysis

# --- the study ----------------------------------------------------------------------------------
# Regenerates the study of record, v3 (docs/study/README.md; docs/study/run_study_v3.sh, 39 min
# here on 2026-12-05): the write-up's test with the fitted lognormal delay, the headline as
# deployed (0.25 vCPU, 100 ms period, closed model), the open model over the three backends, the
# payload check and the capacities under p95<110ms and p99<100ms; the data under
# docs/study/data/v3/, docs/study/recompute.py's figures from them, the reports under
# docs/study/v3/. STUDY_QUICK=1: every step tiny (~6 min). Run it alone on the machine.
.PHONY: study-v3 study-v2
study study-v3: venv system-deps
	STUDY_QUICK='$(STUDY_QUICK)' PY=$(PY) docs/study/run_study_v3.sh

# The previous study, v2 (docs/study/v2.md; docs/study/run_study.sh, about 32 min here): the
# headline in a CPU envelope sized here (--service-cpu auto), the added-latency, payload, storage
# and processes sweeps, the wrk cross-check, each report under docs/study/*-report/.
# STUDY_HOST=http://HOST:PORT runs it against a deployed service; STUDY_QUICK=1 tiny (~5 min).
study-v2: venv system-deps
	STUDY_HOST='$(STUDY_HOST)' STUDY_QUICK='$(STUDY_QUICK)' PY=$(PY) docs/study/run_study.sh

# --- AWS deployment (terraform/README.md) -------------------------------------------------------
# checkov pins heavy dependencies of its own, so it lives in a venv apart from the project's.
TOOLS_VENV := .venv-tools
TF_DIR ?= terraform
TF := terraform -chdir=$(TF_DIR)
# Where the registry is out of reach, providers come from a local mirror (as on the CI machines).
TF_PLUGIN_DIR ?= $(wildcard /opt/tf-plugins)
TF_INIT := $(TF) init -input=false $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR))
# ECR tags are immutable: every deploy pushes a new tag (UTC time and commit).
ifndef IMAGE_TAG
IMAGE_TAG := $(shell date -u +%Y%m%d%H%M%S)-$(shell git rev-parse --short HEAD 2>/dev/null || echo local)
endif

.PHONY: tools tf-check

tools: $(TOOLS_VENV)/.installed
CHECKOV := checkov>=3.2,<4

$(TOOLS_VENV)/.installed:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(call pip_install,$(TOOLS_VENV)/bin/python,'$(CHECKOV)')
	$(TOOLS_VENV)/bin/checkov --version
	touch $@

# Static checks of terraform/ and the Dockerfile, without AWS (the tests also apply it to moto).
tf-check: tools
	terraform fmt -check -recursive terraform
	$(TF_INIT) -backend=false >/dev/null
	$(TF) validate
	$(TOOLS_VENV)/bin/checkov --config-file .checkov.yaml --compact --quiet -d terraform --framework terraform
	$(TOOLS_VENV)/bin/checkov --config-file .checkov.yaml --compact --quiet -f Dockerfile --framework dockerfile

# Every AWS target works on TF_DIR (default terraform/) and reads the deployment from its state:
# region, cluster, services (deploy/aws_ops, python -m deploy.aws_ops --help). AUTO_APPROVE=1 runs
# the applies and the destroy without asking (unattended). Walk-through: terraform/README.md.
TF_DIR ?= terraform
AUTO_APPROVE ?=
TF_APPROVE := $(if $(filter 1 yes true,$(AUTO_APPROVE)),-auto-approve)
OPS := $(PY) -m deploy.aws_ops --tf-dir $(TF_DIR)
# buildah (default), docker or podman builds and pushes the images. IMAGE_BUILD=stub builds
# nothing and registers a placeholder manifest per repository (ecr put-image): only for an
# emulated AWS without a registry (the moto tests); no task could run such an image.
CONTAINER_TOOL ?= buildah
IMAGE_BUILD ?= push
RESULTS_DIR ?= results
.PHONY: preflight pause resume status locust-ui remote-report tf-lock

# The provider's checksums for linux and darwin, amd64 and arm64 in .terraform.lock.hcl (needs
# the registry; commit the file afterwards).
tf-lock:
	$(TF) providers lock -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64

# Credentials, region, the Fargate vCPU quota against the plan, the ECS service-linked role: one
# line each, with its fix. deploy runs it first (PREFLIGHT=0 skips it).
preflight: venv
	@test -f $(TF_DIR)/terraform.tfvars || { echo "preflight: write $(TF_DIR)/terraform.tfvars first (allowed_ingress_cidrs at least; see terraform/README.md)" >&2; exit 1; }
	@$(TF_INIT) >/dev/null
	@$(OPS) preflight

# From an empty state: ECR repositories, build + push both images, the rest of the stack. The
# first apply targets the repositories and terraform_data.build (which carries the outputs the
# build needs: a targeted apply writes only outputs that depend on its targets).
deploy: venv
	@test -f $(TF_DIR)/terraform.tfvars || { echo "deploy: write $(TF_DIR)/terraform.tfvars first (allowed_ingress_cidrs at least; see terraform/README.md)" >&2; exit 1; }
	$(TF_INIT)
	$(if $(filter 0,$(PREFLIGHT)),,$(OPS) preflight)
	$(TF) apply -input=false $(TF_APPROVE) -var image_tag=$(IMAGE_TAG) -target=aws_ecr_repository.this -target=terraform_data.build
	CONTAINER_TOOL=$(CONTAINER_TOOL) STORAGE_DRIVER=$${STORAGE_DRIVER:-vfs} \
	  $(OPS) images --tag $(IMAGE_TAG) $(if $(filter stub,$(IMAGE_BUILD)),--stub)
	$(TF) apply -input=false $(TF_APPROVE) -var image_tag=$(IMAGE_TAG)
	$(TF) output

# Needs no terraform.tfvars: the region is the deployment's (its state's aws_region output, not
# whatever terraform.tfvars says now), the running sweep tasks (not in the state) are stopped
# first, and the two required variables only have to be valid.
destroy: venv
	$(TF_INIT) >/dev/null
	@region=$$($(OPS) region) || exit $$?; \
	if [ -z "$$region" ]; then \
	  echo "destroy: the state in $(TF_DIR) has no aws_region output (nothing deployed, or an older or failed deploy): using terraform.tfvars or the default region" >&2; \
	else $(OPS) stop-sweeps || exit $$?; fi; \
	$(TF) destroy -input=false $(TF_APPROVE) -var image_tag=destroy $${region:+-var aws_region=$$region} \
	  $(if $(wildcard $(TF_DIR)/terraform.tfvars),,-var 'allowed_ingress_cidrs=["127.0.0.1/32"]')

# Between sweeps: sweep tasks stopped, every ECS service at 0 tasks, the database stopped (the
# load balancers, endpoints, cache and storage still bill). resume starts them again.
pause: venv
	$(OPS) pause
resume: venv
	$(OPS) resume

# What runs now and its list price per hour (deploy/aws_ops/prices.py says whose prices).
status: venv
	@$(OPS) status

# The private Locust web UI on http://127.0.0.1:8089 through SSM port forwarding (needs the AWS
# CLI's session-manager-plugin and a running master, i.e. a sweep in progress).
locust-ui: venv
	@cmd=$$($(OPS) locust-ui) || exit $$?; echo "$$cmd"; eval "$$cmd"

# A headless sweep inside the VPC: the Locust master and workers are started for it (WORKERS, or
# from the sweep's largest --users and USERS_PER_WORKER), then the sweep task, which scales them
# to 0 when it ends, fails or reaches sweep_max_lifetime_minutes (terraform/README.md).
#   make remote-sweep ARGS="--preset quick"      then      make remote-fetch SWEEP=<sweep id>
# DRY_RUN=1 starts nothing: it prints the run-task request and checks it against the registered
# task definition and the network (ECS and EC2 APIs).
WORKERS ?=
USERS_PER_WORKER ?= 500
# generator CPU per request (ms of one core) that sizes the workers of an --arrival-rate sweep
CPU_MS_PER_REQUEST ?=
remote-sweep: venv
	@outputs=$$(mktemp); request=$$(mktemp); trap 'rm -f "$$outputs" "$$request"' EXIT; \
	$(TF) output -json > "$$outputs" || exit $$?; \
	if [ -n "$(DRY_RUN)" ]; then \
	  $(PY) -m scenarios.remote_results launch --dry-run --outputs "$$outputs" -- $(ARGS) > "$$request" || exit $$?; \
	  cat "$$request"; $(OPS) check-request "$$request"; exit $$?; \
	fi; \
	workers=$$($(OPS) generators-up --sweep-args="$(ARGS)" $(if $(WORKERS),--workers $(WORKERS)) --users-per-worker $(USERS_PER_WORKER) $(if $(CPU_MS_PER_REQUEST),--cpu-ms-per-request $(CPU_MS_PER_REQUEST))) || exit $$?; \
	echo "remote-sweep: Locust master and $$workers worker(s) running"; \
	$(PY) -m scenarios.remote_results launch --outputs "$$outputs" -- $(ARGS) --expect-workers $$workers \
	  || { status=$$?; $(OPS) generators-down; exit $$status; }

remote-fetch: venv
	@outputs=$$(mktemp); trap 'rm -f "$$outputs"' EXIT; $(TF) output -json > "$$outputs" || exit $$?; \
	if [ -z "$(SWEEP)" ]; then $(PY) -m scenarios.remote_results list --outputs "$$outputs"; \
	  echo "remote-fetch: give SWEEP=<sweep id> (listed above)" >&2; exit 2; fi; \
	$(PY) -m scenarios.remote_results fetch $(SWEEP) --outputs "$$outputs" --out $(RESULTS_DIR)

remote-report: venv
	@test -n "$(SWEEP)" || { echo "remote-report: give SWEEP=<sweep id> (make remote-fetch first)" >&2; exit 2; }
	$(PY) -m analysis report $(RESULTS_DIR)/$(SWEEP)

# --- container images (deploy/README.md): buildah, no Docker engine needed -----------------------
LOCAL_BASE := localhost/loadbench-base:bookworm
IMAGE_BASE ?= $(LOCAL_BASE)
.PHONY: base-image image

base-image: system-deps
	deploy/build_base_image.sh $(LOCAL_BASE)

image: system-deps $(if $(filter $(LOCAL_BASE),$(IMAGE_BASE)),base-image)
	BASE_IMAGE=$(IMAGE_BASE) deploy/build_image.sh service
	BASE_IMAGE=$(IMAGE_BASE) deploy/build_image.sh loadgen

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
