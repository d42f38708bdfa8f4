# The README's two set-up commands are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := wrk buildah debootstrap

.PHONY: help venv system-deps demo test lint bench bench-service bench-scenarios bench-sweep bench-analysis \
        study deploy destroy clean

help:
	@echo "make demo    start the service on loopback, run the quick sweep, write the report"
	@echo "make test    the whole test suite (installs the venv and system packages first)"
	@echo "make lint    ruff and mypy"
	@echo "make bench   every benchmark (bench-service, bench-scenarios, bench-sweep, bench-analysis)"
	@echo "make study   the full study (about 30 minutes), report under docs/study/"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install --quiet -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import target_service, scenarios, analysis, locust, starlette, pandas"
	touch $@

# Debian packages the benchmarks (wrk) and the container tests (buildah, debootstrap) need.
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
demo: venv
	@echo "demo: the quick sweep and its report are added by the scenarios and analysis work"

# --- benchmarks ---------------------------------------------------------------------------------
bench: bench-service bench-scenarios bench-sweep bench-analysis

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
