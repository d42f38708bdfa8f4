# Two images from one file (see deploy/README.md):
#   --target service   the product API (`python -m target_service`), installs only `.[service]`
#   --target loadgen   Locust and scenarios/, installs only `.[loadgen]`, for Locust masters/workers on ECS
#
# The base image is a build argument so that it can be swapped: any Debian-like image with
# `python3` (3.11 or newer) and its venv module, e.g. python:3.11-slim (the default) or the local
# Debian base that deploy/build_base_image.sh makes where Docker Hub cannot be reached.
# Paths below use /opt/venv/bin only, so the base's python may live in /usr/bin or /usr/local/bin.
# checkov:skip=CKV_DOCKER_7: every FROM is ${BASE_IMAGE}, whose default is the pinned tag 3.11-slim; checkov does not expand build arguments
ARG BASE_IMAGE=python:3.11-slim

# ---- dependencies and code of the service, installed into /opt/venv ----------------------------
FROM ${BASE_IMAGE} AS service-build
# PIP_CERT: a certificate bundle for pip, where the network inspects TLS (deploy/build_image.sh
# passes the host's, mounted for the build only); unset, pip uses its own.
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml deploy/extra_requirements.py ./
# Dependencies first, in a layer that is rebuilt only when pyproject.toml changes.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python extra_requirements.py service > requirements.txt \
    && /opt/venv/bin/pip install --requirement requirements.txt
COPY README.md ./
COPY target_service/ target_service/
# The project itself with its extra: the requirements above are already satisfied.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install ".[service]" \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

# ---- dependencies and code of the load generator ----------------------------------------------
FROM ${BASE_IMAGE} AS loadgen-build
# PIP_CERT: a certificate bundle for pip, where the network inspects TLS (deploy/build_image.sh
# passes the host's, mounted for the build only); unset, pip uses its own.
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml deploy/extra_requirements.py ./
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python extra_requirements.py loadgen > requirements.txt \
    && /opt/venv/bin/pip install --requirement requirements.txt
COPY README.md ./
COPY scenarios/ scenarios/
COPY runmodel/ runmodel/
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install ".[loadgen]" \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

# ---- the service image -------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS service
# Settings come from the environment: HOST, PORT, WORKERS, LOG_LEVEL, ACCESS_LOG, STORE_CAPACITY,
# STORE, DATABASE_URL, CACHE_URL, DB_POOL_SIZE, FAST_READS, ALLOW_SPLIT_MEMORY (target_service/README.md).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8080
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app
COPY --from=service-build /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8080
# Needs no curl or wget: the image's own python asks /health/live (liveness: the process answers,
# whatever the database or the load) on the port the service listens on.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/health/live', timeout=2)"]
# SIGTERM lets uvicorn finish requests in flight and exit; the default stop signal is fine.
CMD ["python", "-m", "target_service"]

# ---- the load generator image ------------------------------------------------------------------
FROM ${BASE_IMAGE} AS loadgen
# LOCUST_LOCUSTFILE: a command that replaces CMD (an ECS task's `--worker --master-host ...`)
# still finds the scenarios without repeating `-f`.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOCUST_LOCUSTFILE=/app/scenarios/locustfile.py
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin locust
COPY --from=loadgen-build /opt/venv /opt/venv
WORKDIR /app
COPY scenarios/ scenarios/
COPY runmodel/ runmodel/
USER 10001:10001
# 8089: the master's web UI; 5557: where workers connect to the master.
EXPOSE 8089 5557
# A worker serves no port to probe and Locust ends its process when it fails: nothing to check.
HEALTHCHECK NONE
ENTRYPOINT ["locust"]
# Default: a master that waits for workers. A worker of the same image:
#   locust -f scenarios/locustfile.py --worker --master-host MASTER_ADDRESS
# A headless master for a bounded run:
#   locust -f scenarios/locustfile.py --master --headless --expect-workers 2 \
#          --users 50 --spawn-rate 10 --run-time 60s --host http://SERVICE:8080
CMD ["-f", "scenarios/locustfile.py", "--master"]
