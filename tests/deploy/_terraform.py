"""Run terraform on a private copy of terraform/, with the provider from the local mirror."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _moto import CREDENTIALS, REGION

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
# The registry cannot be reached here; the AWS provider is installed in a filesystem mirror.
MIRROR_CANDIDATES = (
    os.environ.get("LOADBENCH_TF_PLUGIN_MIRROR", ""),
    "/opt/tf-plugins",
    str(Path.home() / ".terraform.d" / "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


def provider_mirror() -> Path | None:
    for candidate in filter(None, MIRROR_CANDIDATES):
        path = Path(candidate)
        if (path / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return path
    return None


@dataclass
class Terraform:
    workdir: Path
    env: dict[str, str]

    def run(
        self,
        *args: str,
        timeout: float = 300,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["terraform", args[0], "-no-color", *args[1:]],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} exited {result.returncode}\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def outputs(self) -> dict[str, Any]:
        raw = json.loads(self.run("output", "-json").stdout)
        return {name: item["value"] for name, item in raw.items()}


def prepare(workdir: Path, init: bool = True) -> Terraform:
    """Copy terraform/ into workdir, write a CLI config that uses the mirror, and init (unless
    ``init`` is false: the make targets run their own ``terraform init``)."""
    # Only the stack, its templates, the lock file and moto.tfvars: a developer's
    # terraform.tfvars or *.auto.tfvars stays out.
    sources = [*TERRAFORM_DIR.glob("*.tf"), *TERRAFORM_DIR.glob("*.tftpl"),
               TERRAFORM_DIR / ".terraform.lock.hcl", TERRAFORM_DIR / "moto.tfvars"]
    for source in sources:
        shutil.copy2(source, workdir / source.name)
    mirror = provider_mirror()
    cli_config = workdir / "cli.tfrc"
    if mirror is not None:
        cli_config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/*/*"]\n  }\n}\n'
        )
    else:
        cli_config.write_text("")  # terraform then tries the registry, and says so if it fails
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TF_"))}
    env.update(CREDENTIALS)
    env.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CHECKPOINT_DISABLE": "1",  # no version check over the network
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_DATA_DIR": str(workdir / ".terraform"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
        }
    )
    terraform = Terraform(workdir, env)
    if init:
        terraform.run("init", "-input=false", timeout=120)
    return terraform
