# The README's two set-up commands are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := wrk buildah debootstrap postgresql redis-server chromium

.PHONY: help venv demo-venv system-deps demo notebooks test lint bench bench-service bench-storage bench-scenarios bench-sweep bench-analysis \
        bench-cpu-period study deploy destroy remote-sweep remote-fetch clean

help:
	@echo "make demo    start the service on loopback, run the quick sweep, write the report"
	@echo "make notebooks  open JupyterLab on notebooks/ with the project's venv"
	@echo "make test    the whole test suite (installs the venv and system packages first)"
	@echo "make lint    ruff and mypy"
	@echo "make bench   every benchmark (bench-service, bench-storage, bench-scenarios, bench-sweep, bench-analysis)"
	@echo "make study   the full study (about 30 minutes), reports under docs/study/"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install --quiet -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import target_service, scenarios, analysis, locust, starlette, pandas"
	touch $@

# The demo needs only the service, the load generator and the analysis: not the test tools.
# A venv made by `make venv` has all of them already; the stamp then costs one quick pip check.
demo-venv: $(VENV)/.demo-installed

$(VENV)/.demo-installed: pyproject.toml
	@test -x $(PY) || { echo "demo: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "demo: installing the service, Locust and the analysis into $(VENV) (a few minutes the first time)"
	@$(PY) -m pip install --upgrade pip 2>&1 | grep -E "^(Successfully|ERROR)" || true
	@$(PY) -m pip install -e '.[service,loadgen,analysis]' 2>&1 \
	  | grep --line-buffered -E "^(Collecting|Successfully|ERROR)" | sed -u 's/^/  pip: /'; \
	  $(PY) -c "import target_service, scenarios, analysis, analysis.report, locust, starlette, pandas"
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

test: venv system-deps
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# --- main job -----------------------------------------------------------------------------------
# The quick sweep (scenarios/sweeps/quick.toml, about 70 s) against a local service it starts
# itself, then the report of results/latest. A point that is not valid (e.g. generator-bound)
# makes the sweep exit 1; the demo still writes the report, which shows the verdicts.
demo: demo-venv
	@echo "demo: the quick sweep: 6 points, each against a fresh service on loopback (about 70 s)"
	@$(PY) -m scenarios.sweep --preset quick --out results; status=$$?; \
	  if [ $$status -gt 1 ]; then exit $$status; fi
	@echo "demo: writing the report"
	@report=$$($(PY) -m analysis report results/latest) && \
	  echo "demo: done. Open the report (one self-contained HTML file, works offline):" && \
	  echo "$$report"

# JupyterLab on notebooks/ with the project's venv; JupyterLab itself (the `jupyter` extra, about
# 40 packages) is installed on first use only: the tests run the notebooks with papermill instead.
notebooks: $(VENV)/.jupyter-installed
	cd notebooks && ../$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

$(VENV)/.jupyter-installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[jupyter]' 2>&1 | grep -v "^WARNING: Location" || true
	touch $@

# --- benchmarks ---------------------------------------------------------------------------------
bench: bench-service bench-storage bench-scenarios bench-sweep bench-analysis

# The service vs a bare ASGI app on the same uvicorn settings, wrk on loopback, pinned (~60 s).
bench-service: venv system-deps
	$(PY) bench/service.py

# The postgres backend (cache off) vs a bare ASGI app doing the same asyncpg query with the same
# pool, the Redis hit path vs a bare app doing the same GET, all pinned with the database and
# cache on the app's CPU, wrk on another; and the per-point reset of 1,000 products (~60 s).
bench-storage: venv system-deps
	$(PY) bench/storage.py

# The CPU envelope's quota period: one service at 0.25 vCPU under wrk, periods 100/50/20/10/5 ms
# interleaved in rounds (scenarios/README.md, "CPU envelope") (~2 min). Not part of `make bench`.
bench-cpu-period: venv system-deps
	$(PY) bench/cpu_period.py --rounds 3 --connections 50 --periods 100,50,20,10,5

# Scenario user classes vs bare Locust users, req/s per core, Locust and service pinned (~3 min).
bench-scenarios: venv
	$(PY) bench/user_classes.py

# The sweep runner's own overhead: wall time / (ramps + windows) of a 6-point sweep, <= 1.15 (~60 s).
bench-sweep: venv
	$(PY) bench/sweep_overhead.py

# Analysis: 1M-row history load vs pandas.read_csv (<= 2x) and a 48-point report (< 15 s) (~40 s).
bench-analysis: venv
	$(PY) bench/analysis.py

# --- the study ----------------------------------------------------------------------------------
# Regenerates docs/study/ (docs/study/run_study.sh, about 30 min here): the headline sweep (the
# service in a CPU envelope sized here, --service-cpu auto), the write-up's test as deployed, the
# added-latency, payload, storage and processes sweeps, the wrk cross-check at the envelope, and
# each sweep's report under docs/study/*-report/, with run.md. STUDY_HOST=http://HOST:PORT runs it
# against a deployed service (the envelope is then skipped); STUDY_QUICK=1 runs every step tiny
# (~5 min), to try it out.
study: venv system-deps
	STUDY_HOST='$(STUDY_HOST)' STUDY_QUICK='$(STUDY_QUICK)' PY=$(PY) docs/study/run_study.sh

# --- AWS deployment (terraform/README.md) -------------------------------------------------------
# checkov pins heavy dependencies of its own, so it lives in a venv apart from the project's.
TOOLS_VENV := .venv-tools
TF := terraform -chdir=terraform
# Where the registry is out of reach, providers come from a local mirror (as on the CI machines).
TF_PLUGIN_DIR ?= $(wildcard /opt/tf-plugins)
TF_INIT := $(TF) init -input=false $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR))
# ECR tags are immutable: every deploy pushes a new tag (UTC time and commit).
ifndef IMAGE_TAG
IMAGE_TAG := $(shell date -u +%Y%m%d%H%M%S)-$(shell git rev-parse --short HEAD 2>/dev/null || echo local)
endif

.PHONY: tools tf-check

tools: $(TOOLS_VENV)/.installed

$(TOOLS_VENV)/.installed:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet 'checkov>=3.2,<4' 2>&1 | grep -v "^WARNING: Location" || true
	$(TOOLS_VENV)/bin/checkov --version
	touch $@

# Static checks of terraform/ and the Dockerfile, without AWS (the tests also apply it to moto).
tf-check: tools
	terraform fmt -check -recursive terraform
	$(TF_INIT) -backend=false >/dev/null
	$(TF) validate
	$(TOOLS_VENV)/bin/checkov --config-file .checkov.yaml --compact --quiet -d terraform --framework terraform
	$(TOOLS_VENV)/bin/checkov --config-file .checkov.yaml --compact --quiet -f Dockerfile --framework dockerfile

# Needs AWS credentials, the AWS CLI, buildah, and terraform/terraform.tfvars (allowed_ingress_cidrs).
# The images are built for the tasks' architecture (output image_platform, from
# task_cpu_architecture), whatever the build machine's is.
deploy:
	@test -f terraform/terraform.tfvars || { echo "deploy: write terraform/terraform.tfvars first (allowed_ingress_cidrs at least; see terraform/README.md)" >&2; exit 1; }
	$(TF_INIT)
	$(TF) apply -input=false -var image_tag=$(IMAGE_TAG) -target=aws_ecr_repository.this
	set -e; export STORAGE_DRIVER=$${STORAGE_DRIVER:-vfs}; \
	  service_repo=$$($(TF) output -raw ecr_repository_url); \
	  loadgen_repo=$$($(TF) output -raw ecr_loadgen_repository_url); \
	  platform=$$($(TF) output -raw image_platform); \
	  registry=$${service_repo%%/*}; region=$$(echo $$registry | cut -d. -f4); \
	  password=$$(aws ecr get-login-password --region $$region); \
	  echo "$$password" | buildah login --username AWS --password-stdin $$registry; \
	  IMAGE_PLATFORM=$$platform deploy/build_image.sh service $$service_repo:$(IMAGE_TAG); \
	  IMAGE_PLATFORM=$$platform deploy/build_image.sh loadgen $$loadgen_repo:$(IMAGE_TAG); \
	  buildah push $$service_repo:$(IMAGE_TAG); \
	  buildah push $$loadgen_repo:$(IMAGE_TAG)
	$(TF) apply -input=false -var image_tag=$(IMAGE_TAG)
	$(TF) output

# Needs no terraform.tfvars: destroy reads what to delete from the state, and the two required
# variables only have to be valid (a tfvars file, when there is one, still applies).
destroy:
	$(TF_INIT) >/dev/null
	$(TF) destroy -input=false -var image_tag=destroy \
	  $(if $(wildcard terraform/terraform.tfvars),,-var 'allowed_ingress_cidrs=["127.0.0.1/32"]')

# A headless sweep inside the VPC: an ECS task runs python -m scenarios.sweep ARGS against the
# Locust master and the internal load balancer and uploads the results to S3 (terraform/README.md).
#   make remote-sweep ARGS="--preset quick"      then      make remote-fetch SWEEP=<sweep id>
remote-sweep: venv
	$(PY) -m scenarios.remote_results launch -- $(ARGS)

remote-fetch: venv
	@test -n "$(SWEEP)" || { $(PY) -m scenarios.remote_results list; echo "remote-fetch: give SWEEP=<sweep id> (listed above)" >&2; exit 2; }
	$(PY) -m scenarios.remote_results fetch $(SWEEP)

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
