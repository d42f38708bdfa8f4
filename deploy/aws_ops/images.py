"""``images``: build both images and push them to the stack's ECR repositories.

``CONTAINER_TOOL`` = buildah (default), docker or podman builds and pushes. ``--stub`` is for
an emulated AWS (moto), which has the ECR API but no registry to push to: it registers a
placeholder manifest under the tag with ``ecr put-image`` instead, so the deployment records a
digest as it would for a real push. It builds nothing, and no task could run that image.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

from deploy.aws_ops._stack import OpsError, client, terraform_outputs

TOOLS = ("buildah", "docker", "podman")
REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _stub_manifest(name: str, tag: str) -> str:
    digest = "sha256:" + hashlib.sha256(f"{name}:{tag}".encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": 0, "digest": digest},
        "layers": [],
    })


def push_images(tf_dir: Path, tag: str, stub: bool = False) -> list[str]:
    """Build and push (or with ``stub`` register) service and loadgen as ``<repo>:<tag>``."""
    outputs = terraform_outputs(tf_dir)
    try:
        repositories = {"service": outputs["ecr_repository_url"],
                        "loadgen": outputs["ecr_loadgen_repository_url"]}
        region, platform = outputs["aws_region"], outputs["image_platform"]
    except KeyError as missing:
        raise OpsError(f"{tf_dir}: output {missing} missing: the ECR apply did not run") from None
    ecr = client("ecr", region)
    if stub:
        for url in repositories.values():
            name = url.split("/", 1)[1]
            ecr.put_image(repositoryName=name, imageTag=tag,
                          imageManifest=_stub_manifest(name, tag),
                          imageManifestMediaType=MANIFEST_TYPE)
        return [f"{url}:{tag} (stub manifest, nothing built)" for url in repositories.values()]
    tool = os.environ.get("CONTAINER_TOOL", "buildah")
    if tool not in TOOLS:
        raise OpsError(f"CONTAINER_TOOL={tool}: use one of {', '.join(TOOLS)}")
    token = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    registry = repositories["service"].split("/", 1)[0]
    subprocess.run([tool, "login", "--username", user, "--password-stdin", registry],
                   input=password, text=True, check=True)
    pushed = []
    for target, url in repositories.items():
        image = f"{url}:{tag}"
        subprocess.run([str(REPO_ROOT / "deploy" / "build_image.sh"), target, image], check=True,
                       env={**os.environ, "IMAGE_PLATFORM": platform, "CONTAINER_TOOL": tool})
        subprocess.run([tool, "push", image], check=True)
        pushed.append(image)
    return pushed
