#!/usr/bin/env bash
# Build a local Debian bookworm base image with Python 3.11, for machines where Docker Hub
# (and so python:3.11-slim) cannot be reached. The result is stored in buildah's local storage:
#
#   deploy/build_base_image.sh [IMAGE]        # default localhost/loadbench-base:bookworm
#   FORCE=1 deploy/build_base_image.sh        # rebuild even when the image is already there
#
# Needs root, buildah and debootstrap. Takes about a minute; a second call returns at once.
set -euo pipefail

image="${1:-localhost/loadbench-base:bookworm}"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "build_base_image: $tool is not installed (make system-deps)" >&2; exit 1; }
done

if [ -z "${FORCE:-}" ] && buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "build_base_image: $image already present (FORCE=1 to rebuild)"
  exit 0
fi

workdir="$(mktemp -d /var/tmp/loadbench-base.XXXXXX)"
container=""
cleanup() {
  if [ -n "$container" ]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

rootfs="$workdir/rootfs"
echo "build_base_image: debootstrap $suite into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip \
  "$suite" "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1 \
  || { tail -20 "$workdir/debootstrap.log" >&2; exit 1; }

# What an image does not need: downloaded packages, package lists, documentation, translations.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old

container="$(buildah from scratch)"
mountpoint="$(buildah mount "$container")"
cp -a "$rootfs/." "$mountpoint/"
buildah umount "$container" >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 \
  --cmd python3 \
  --label org.opencontainers.image.description="Debian $suite minbase with python3, python3-venv, python3-pip" \
  "$container"
buildah commit --quiet "$container" "$image" >/dev/null
echo "build_base_image: committed $image"
