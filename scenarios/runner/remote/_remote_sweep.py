"""S3 and ECS calls of scenarios/remote_results.py: upload, list and fetch sweeps; start a task."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# Uploaded last: a sweep whose manifest is in the bucket is complete there.
MANIFEST = "manifest.json"


class RemoteResultsError(RuntimeError):
    """A sweep could not be uploaded, found, fetched or started; the message names it."""


def _files(sweep_dir: Path) -> list[Path]:
    """Regular files of a sweep directory, the manifest last (symlinks are skipped)."""
    files = sorted(p for p in sweep_dir.rglob("*") if p.is_file() and not p.is_symlink())
    return sorted(files, key=lambda p: p.relative_to(sweep_dir).as_posix() == MANIFEST)


def upload_sweep(s3: Any, bucket: str, prefix: str, sweep_dir: Path) -> list[str]:
    """Put every file of ``sweep_dir`` under ``prefix/<sweep id>/``; return the keys."""
    base = f"{prefix.strip('/')}/{sweep_dir.name}"
    keys = []
    for path in _files(sweep_dir):
        key = f"{base}/{path.relative_to(sweep_dir).as_posix()}"
        with path.open("rb") as body:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        keys.append(key)
    return keys


def list_sweeps(s3: Any, bucket: str, prefix: str) -> dict[str, bool]:
    """Sweep ids under ``prefix``, each True when its manifest is uploaded."""
    sweeps: dict[str, bool] = {}
    for key in _keys(s3, bucket, f"{prefix.strip('/')}/"):
        parts = key.split("/")
        if len(parts) >= 3:
            sweeps[parts[1]] = sweeps.get(parts[1], False) or parts[2:] == [MANIFEST]
    return sweeps


def fetch_sweep(s3: Any, bucket: str, prefix: str, sweep_id: str, out: Path) -> Path:
    """Download ``prefix/<sweep_id>/`` into ``out/<sweep_id>/``; return that directory."""
    if not sweep_id or "/" in sweep_id or sweep_id in (".", ".."):
        raise RemoteResultsError(f"{sweep_id!r}: not a sweep id")
    base = f"{prefix.strip('/')}/{sweep_id}/"
    keys = _keys(s3, bucket, base)
    if not keys:
        raise RemoteResultsError(f"s3://{bucket}/{base}: no such sweep")
    if base + MANIFEST not in keys:
        raise RemoteResultsError(f"s3://{bucket}/{base}: no {MANIFEST} yet (still uploading, "
                                 "or the sweep task stopped before the upload finished)")
    target = out / sweep_id
    if target.exists():
        raise RemoteResultsError(f"{target}: already exists; remove it or fetch into another "
                                 "--out")
    partial = out / f".{sweep_id}.partial"
    for key in keys:
        relative = key[len(base):]
        if not relative or ".." in relative.split("/"):
            continue
        destination = partial / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    os.replace(partial, target)
    return target


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
    except Exception as error:  # botocore's ClientError and connection errors alike
        raise RemoteResultsError(f"s3://{bucket}/{prefix}: {error}") from None
    return keys


def deployment(ecs: Any, ecr: Any, outputs: dict[str, Any]) -> dict[str, Any]:
    """What is deployed, from the ECS and ECR APIs: service, task definition, sizes, image."""
    cluster, name = outputs["cluster"], outputs["service_name"]
    services = ecs.describe_services(cluster=cluster, services=[name])["services"]
    if not services:
        raise RemoteResultsError(f"ECS service {name} not found in cluster {cluster}")
    service = services[0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"]
    container = task["containerDefinitions"][0]
    repository, _, tag = container["image"].rpartition(":")
    digest = None
    try:
        images = ecr.describe_images(repositoryName=repository.split("/", 1)[1],
                                     imageIds=[{"imageTag": tag}])["imageDetails"]
        digest = images[0].get("imageDigest") if images else None
    except Exception:  # an image not pushed (yet): the tag alone is still recorded
        digest = None
    environment = {item["name"]: item["value"] for item in container.get("environment", [])}
    return {
        "source": "ecs", "cluster": cluster, "service": name,
        "task_definition": task["taskDefinitionArn"],
        "cpu": task.get("cpu"), "memory": task.get("memory"),
        "cpu_architecture": (task.get("runtimePlatform") or {}).get("cpuArchitecture"),
        "desired_count": service.get("desiredCount"), "running_count": service.get("runningCount"),
        "workers_per_task": environment.get("WORKERS"),
        "store": environment.get("STORE", outputs.get("store")),
        "cache": "CACHE_URL" in environment,
        "image": container["image"], "image_tag": tag, "image_digest": digest,
    }


def run_task_request(outputs: dict[str, Any], sweep_args: list[str],
                     deployment_info: dict[str, Any]) -> dict[str, Any]:
    """The ``ecs run-task`` parameters that start the sweep task with these sweep flags."""
    return {
        "cluster": outputs["cluster"], "taskDefinition": outputs["task_definition"], "count": 1,
        "launchType": "FARGATE", "startedBy": "loadbench-remote-sweep",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": outputs["subnets"], "securityGroups": outputs["security_groups"],
            "assignPublicIp": "DISABLED"}},
        "overrides": {"containerOverrides": [{
            "name": outputs["container"], "command": sweep_args,
            "environment": [{"name": "DEPLOYMENT_JSON", "value": json.dumps(deployment_info)}],
        }]},
    }


def run_task(ecs: Any, request: dict[str, Any]) -> str:
    """Start the sweep task; return its ARN."""
    answer = ecs.run_task(**request)
    if answer.get("failures") or not answer.get("tasks"):
        raise RemoteResultsError(f"run-task refused: {answer.get('failures')}")
    return str(answer["tasks"][0]["taskArn"])
