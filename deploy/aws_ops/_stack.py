"""The deployed stack as its Terraform outputs say, and boto3 clients in its region."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class OpsError(RuntimeError):
    """An operation cannot go on; the message is one line that says what to do."""


def terraform_outputs(tf_dir: Path) -> dict[str, Any]:
    """``terraform output -json`` of ``tf_dir`` as name -> value (empty: nothing deployed)."""
    try:
        done = subprocess.run(["terraform", f"-chdir={tf_dir}", "output", "-json"], check=True,
                              capture_output=True, text=True, timeout=120)
        raw = json.loads(done.stdout or "{}")
    except FileNotFoundError:
        raise OpsError("terraform is not on PATH (install terraform >= 1.9)") from None
    except subprocess.CalledProcessError as error:
        last = (error.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise OpsError(f"terraform -chdir={tf_dir} output: {last[0]}") from None
    except (ValueError, subprocess.TimeoutExpired) as error:
        raise OpsError(f"terraform -chdir={tf_dir} output: {error}") from None
    return {name: item["value"] for name, item in raw.items()}


def client(service: str, region: str | None) -> Any:
    """A boto3 client; AWS_ENDPOINT_URL (an emulator such as moto) is honoured by boto3 itself."""
    import boto3

    return boto3.client(service, region_name=region,
                        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


@dataclass(frozen=True)
class Stack:
    """What the ``operations`` output of terraform/outputs.tf describes."""

    region: str
    cluster: str
    services: dict[str, dict[str, Any]]
    database: str | None
    database_class: str | None
    cache_node_type: str | None
    load_balancers: int
    interface_endpoints: int
    prices: dict[str, float]

    @classmethod
    def load(cls, tf_dir: Path) -> Stack:
        """The deployed stack of ``tf_dir``; OpsError when nothing is deployed there."""
        outputs = terraform_outputs(tf_dir)
        ops = outputs.get("operations")
        if not ops:
            raise OpsError(f"{tf_dir}: no deployment in the Terraform state (make deploy first)")
        return cls(region=ops["region"], cluster=ops["cluster"],
                   services=dict(ops["services"]), database=ops.get("database"),
                   database_class=ops.get("database_class"),
                   cache_node_type=ops.get("cache_node_type"),
                   load_balancers=int(ops.get("load_balancers", 1)),
                   interface_endpoints=int(ops.get("interface_endpoints", 0)),
                   prices={k: float(v) for k, v in (ops.get("prices") or {}).items()})

    def client(self, service: str) -> Any:
        """A boto3 client in the deployment's region."""
        return client(service, self.region)
