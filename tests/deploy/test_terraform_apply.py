"""terraform/ applied to a moto server on loopback, read back with boto3, and destroyed.

Once per storage backend: store = "postgres" with everything moto implements (Locust on ECS, VPC
endpoints, RDS and its generated secret, the results and access-log buckets, dashboard and
alarms), and store = "memory" alone (one task, no database, no Locust). terraform/moto.tfvars
switches off only what moto lacks (autoscaling, the ElastiCache cache).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from _moto import start_moto
from _stack_checks import (
    check_buckets,
    check_database,
    check_ecs,
    check_everything_is_gone,
    check_iam,
    check_launch,
    check_network,
    check_observability,
    check_outputs,
)
from _terraform import prepare

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(
        shutil.which("terraform") is None,
        reason="!!! terraform is not on PATH: apply/destroy against moto did NOT run !!!",
    ),
]

MOTO_VARS = ("-var-file=moto.tfvars",)
STORE_VARS = {
    "postgres": ("-var=store=postgres", "-var=service_cpu=2048", "-var=service_memory=4096"),
    "memory": ("-var=store=memory", "-var=enable_locust=false",
               "-var=enable_alb_access_logs=false"),
}


@pytest.mark.parametrize("store", ["postgres", "memory"])
def test_stack_applies_to_moto_and_destroys(tmp_path: Path, store: str) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    terraform = prepare(workdir)
    server = start_moto(tmp_path)  # its own server: nothing left over from another test
    variables = (*MOTO_VARS, *STORE_VARS[store], f"-var=aws_endpoint_url={server.url}")
    postgres, locust = store == "postgres", store == "postgres"
    applied = False
    try:
        started = time.monotonic()
        terraform.run("apply", "-input=false", "-auto-approve", *variables, timeout=480)
        applied = True
        apply_seconds = time.monotonic() - started
        outputs = terraform.outputs()
        assert outputs["store"] == store
        check_outputs(outputs, locust)
        check_network(server, locust, postgres)
        check_ecs(server, outputs, store, locust)
        check_iam(server, outputs, postgres, locust)
        check_database(server, outputs, postgres)
        check_observability(server, postgres, locust)
        check_buckets(server, outputs, locust)
        if locust:
            check_launch(server, outputs, tmp_path)

        started = time.monotonic()
        # As `make destroy` without a terraform.tfvars: only the two required variables, the
        # rest at their defaults (the memory run); the state says what to delete.
        destroy_vars = variables if locust else (
            "-var=image_tag=destroy", '-var=allowed_ingress_cidrs=["127.0.0.1/32"]',
            f"-var=aws_endpoint_url={server.url}")
        terraform.run("destroy", "-input=false", "-auto-approve", *destroy_vars, timeout=300)
        applied = False
        destroy_seconds = time.monotonic() - started
        print(f"\nterraform apply ({store}) to moto: {apply_seconds:.0f} s, "
              f"destroy: {destroy_seconds:.0f} s")
        check_everything_is_gone(server)
        state = json.loads(terraform.run("show", "-json").stdout)
        assert "values" not in state or not state["values"]["root_module"].get("resources")
    finally:
        if applied:
            terraform.run("destroy", "-input=false", "-auto-approve", *variables,
                          timeout=300, check=False)
        server.stop()
