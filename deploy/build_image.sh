#!/usr/bin/env bash
# Build one of the Dockerfile's images with buildah (no Docker engine needed), or with docker or
# podman (CONTAINER_TOOL=docker|podman, e.g. on macOS):
#
#   deploy/build_image.sh service [TAG]    # default tag localhost/loadbench-service:latest
#   deploy/build_image.sh loadgen [TAG]    # default tag localhost/loadbench-loadgen:latest
#
# IMAGE_PLATFORM (e.g. linux/amd64, what `make deploy` passes from the Terraform output
# image_platform) builds for the tasks' architecture instead of the build machine's; building for
# another architecture than the machine's needs qemu-user-static (binfmt) installed.
# BASE_IMAGE swaps the base (default: the Dockerfile's, python:3.11-slim); on machines without
# Docker Hub use the local one from deploy/build_base_image.sh:
#   BASE_IMAGE=localhost/loadbench-base:bookworm deploy/build_image.sh service
# Layers are cached in buildah's storage and pip's downloads in a cache mount, so a rebuild after
# a code change reinstalls no dependency. Docker format keeps the HEALTHCHECK (OCI has none).
set -euo pipefail

target="${1:-}"
case "$target" in
  service | loadgen) ;;
  *) echo "usage: deploy/build_image.sh service|loadgen [TAG]" >&2; exit 2 ;;
esac
tag="${2:-localhost/loadbench-$target:latest}"
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
repo_root="$(cd "$(dirname "$0")/.." && pwd)"

tool="${CONTAINER_TOOL:-buildah}"
case "$tool" in
  buildah | docker | podman) ;;
  *) echo "build_image: CONTAINER_TOOL=$tool: use buildah, docker or podman" >&2; exit 2 ;;
esac
command -v "$tool" >/dev/null || { echo "build_image: $tool is not installed (buildah: make system-deps; or set CONTAINER_TOOL=docker|podman)" >&2; exit 1; }

build_args=()
if [ -n "${IMAGE_PLATFORM:-}" ]; then build_args+=(--platform "$IMAGE_PLATFORM"); fi
if [ -n "${BASE_IMAGE:-}" ]; then build_args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE"); fi

# Where the host's pip trusts an extra certificate authority (PIP_CERT, or `cert =` in
# /etc/pip.conf, as behind a TLS-inspecting proxy), the build's pip gets the same bundle,
# mounted read-only for the RUN steps only: it is not kept in any image layer.
host_cert="${PIP_CERT:-}"
if [ -z "$host_cert" ] && [ -r /etc/pip.conf ]; then
  host_cert="$(sed -n 's/^[[:space:]]*cert[[:space:]]*=[[:space:]]*//p' /etc/pip.conf | head -n 1)"
fi
if [ -n "$host_cert" ] && [ -r "$host_cert" ]; then
  build_args+=(--volume "$host_cert:/run/build-ca-bundle.crt:ro" \
    --build-arg PIP_CERT=/run/build-ca-bundle.crt)
fi

case "$tool" in
  buildah)
    buildah bud --layers --force-rm --isolation chroot --format docker \
      "${build_args[@]}" --target "$target" --tag "$tag" \
      --file "$repo_root/Dockerfile" "$repo_root" ;;
  podman)
    podman build --layers --force-rm --format docker \
      "${build_args[@]}" --target "$target" --tag "$tag" \
      --file "$repo_root/Dockerfile" "$repo_root" ;;
  docker)
    # BuildKit builds for --platform. docker build has no --volume: the host CA bundle (the
    # four words --volume SRC --build-arg PIP_CERT=...) is left out; behind a TLS-inspecting
    # proxy build with buildah or podman.
    docker_args=()
    for ((i = 0; i < ${#build_args[@]}; i++)); do
      if [ "${build_args[$i]}" = "--volume" ]; then i=$((i + 3)); continue; fi
      docker_args+=("${build_args[$i]}")
    done
    DOCKER_BUILDKIT=1 docker build "${docker_args[@]}" --target "$target" --tag "$tag" \
      --file "$repo_root/Dockerfile" "$repo_root" ;;
esac
