"""terraform/ formatted, validated and planned against a moto server on loopback.

Each test works on its own copy of terraform/ in a temporary directory (state, .terraform and the
CLI config live there), with the AWS provider from the machine's filesystem mirror and the
committed lock file. The apply/destroy runs are in test_terraform_apply.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _moto import MotoServer, start_moto
from _terraform import TERRAFORM_DIR, Terraform, prepare, provider_mirror

TERRAFORM_MISSING = shutil.which("terraform") is None

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(
        TERRAFORM_MISSING,
        reason="!!! terraform is not on PATH: fmt/validate/plan/apply/destroy did NOT run !!!",
    ),
]

MOTO_VARS = ("-var-file=moto.tfvars",)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def planner(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    """An initialised copy of terraform/ for fmt, validate and plan (never applied)."""
    return prepare(tmp_path_factory.mktemp("terraform-plan"))


def _blocks(kind: str) -> dict[str, str]:
    """Body of each top-level `kind "name" { ... }` block of terraform/*.tf, by name."""
    pattern = re.compile(rf'^{kind} "([^"]+)" \{{\n(.*?)^\}}', re.MULTILINE | re.DOTALL)
    return {
        name: body
        for path in sorted(TERRAFORM_DIR.glob("*.tf"))
        for name, body in pattern.findall(path.read_text())
    }


def test_terraform_files_are_formatted(planner: Terraform) -> None:
    result = planner.run("fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR), check=False)
    assert result.returncode == 0, f"run `terraform fmt terraform`:\n{result.stdout}"


def test_configuration_is_valid(planner: Terraform) -> None:
    result = planner.run("validate", "-json")
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["warning_count"] == 0, report["diagnostics"]


def test_every_variable_is_described_and_typed() -> None:
    variables = _blocks("variable")
    assert len(variables) >= 25
    for name, body in variables.items():
        assert re.search(r"^  description = \"\S", body, re.MULTILINE), (
            f"variable {name}: no description"
        )
        assert re.search(r"^  type\s+= ", body, re.MULTILINE), f"variable {name}: no type"


def test_every_output_is_described() -> None:
    outputs = _blocks("output")
    assert {"service_url", "ecr_repository_url", "cluster_name", "locust_master_url"} <= set(
        outputs
    )
    for name, body in outputs.items():
        assert re.search(r"^  description = \"\S", body, re.MULTILINE), (
            f"output {name}: no description"
        )


def _plan_json(planner: Terraform, moto: MotoServer, *var_args: str) -> dict[str, Any]:
    plan_file = planner.workdir / "test.tfplan"
    planner.run(
        "plan",
        "-input=false",
        "-refresh=false",
        f"-out={plan_file}",
        *MOTO_VARS,
        f"-var=aws_endpoint_url={moto.url}",
        *var_args,
        timeout=180,
    )
    return dict(json.loads(planner.run("show", "-json", str(plan_file)).stdout))


def _planned(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {change["address"]: change["change"]["after"] for change in plan["resource_changes"]}


def test_plan_with_autoscaling_tracks_cpu_and_requests_on_both_balancers(
    planner: Terraform,
    moto: MotoServer,
) -> None:
    planned = _planned(
        _plan_json(
            planner,
            moto,
            "-var=enable_autoscaling=true",
            "-var=autoscaling_max_capacity=8",
            "-var=service_desired_count=2",
            "-var=service_cpu=4096",
            "-var=service_memory=8192",
            "-var=enable_cache=true",
            # Everything optional the moto apply leaves off: the opened Locust UI (TLS, Cognito
            # login), Fargate Spot workers, the budget and the e-mail subscription.
            "-var=locust_ui_public=true",
            "-var=certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/abc",
            "-var=locust_spot_workers=true",
            "-var=budget_monthly_usd=50",
            "-var=alert_email=ops@example.com",
            "-var=single_az=true",
        )
    )
    task = planned["aws_ecs_task_definition.service"]
    assert (task["cpu"], task["memory"]) == ("4096", "8192")
    target = planned["aws_appautoscaling_target.service[0]"]
    assert (target["min_capacity"], target["max_capacity"]) == (1, 8)
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    cpu = planned["aws_appautoscaling_policy.cpu[0]"][
        "target_tracking_scaling_policy_configuration"
    ][0]
    assert cpu["predefined_metric_specification"][0]["predefined_metric_type"] == (
        "ECSServiceAverageCPUUtilization"
    )
    for load_balancer in ("public", "internal"):
        policy = planned[f'aws_appautoscaling_policy.requests["{load_balancer}"]']
        metric = policy["target_tracking_scaling_policy_configuration"][0]
        assert metric["predefined_metric_specification"][0]["predefined_metric_type"] == (
            "ALBRequestCountPerTarget"
        )
    # Under autoscaling the service is the variant whose task count later applies leave alone.
    assert "aws_ecs_service.service[0]" not in planned
    assert planned["aws_ecs_service.autoscaled[0]"]["desired_count"] == 2
    assert planned["aws_ecs_service.autoscaled[0]"]["wait_for_steady_state"] is True
    autoscaled = (TERRAFORM_DIR / "ecs.tf").read_text().split(
        'resource "aws_ecs_service" "autoscaled" {')[1].split("\n}\n")[0]
    assert "ignore_changes = [desired_count]" in autoscaled
    # The cache moto cannot apply: encrypted at rest and in transit, one node.
    cache = planned["aws_elasticache_replication_group.this[0]"]
    assert cache["at_rest_encryption_enabled"] in (True, "true")  # a string in this provider
    assert cache["transit_encryption_enabled"] is True
    assert cache["num_cache_clusters"] == 1
    # The Redis panel's dimension is the node (CacheClusterId), with the hit rate beside it (the
    # dashboard body is unknown until the load balancers exist: read from the source).
    monitoring = (TERRAFORM_DIR / "monitoring.tf").read_text()
    assert '"AWS/ElastiCache", "CacheHits", "CacheClusterId", local.cache_node_id' in monitoring
    assert '"${var.name}-cache-001"' in monitoring and "100 * hits / (hits + misses)" in monitoring
    assert '"ReplicationGroupId",' not in monitoring
    # The opened UI: HTTPS only, a Cognito login before the master.
    listener = planned["aws_lb_listener.locust_ui[0]"]
    assert listener["protocol"] == "HTTPS" and listener["port"] == 8089
    assert [a["type"] for a in listener["default_action"]] == ["authenticate-cognito", "forward"]
    pool = planned["aws_cognito_user_pool.locust_ui[0]"]
    assert pool["admin_create_user_config"][0]["allow_admin_create_user_only"] is True
    worker = planned["aws_ecs_service.locust_worker[0]"]
    assert worker["capacity_provider_strategy"][0]["capacity_provider"] == "FARGATE_SPOT"
    assert worker.get("launch_type") in (None, "")
    budget = planned["aws_budgets_budget.this[0]"]
    assert budget["limit_amount"] in ("50", "50.0")
    assert {n["subscriber_email_addresses"][0] for n in budget["notification"]} == {
        "ops@example.com"}
    assert planned["aws_sns_topic_subscription.alarm_email[0]"]["endpoint"] == "ops@example.com"
    # single_az: the system under test and the generators in the first zone (the database and
    # the cache node pinned there; the tasks take the first zone's subnets, unknown at plan).
    zone = planned["aws_subnet.private[0]"]["availability_zone"]
    assert zone and zone != planned["aws_subnet.private[1]"]["availability_zone"]
    assert planned["aws_db_instance.this[0]"]["availability_zone"] == zone
    assert planned["aws_elasticache_replication_group.this[0]"][
        "preferred_cache_cluster_azs"] == [zone]
    # The admin route is refused on the public load balancer (both listeners with TLS).
    for key in ("http", "https"):
        rule = planned[f'aws_lb_listener_rule.no_public_admin["{key}"]']
        assert rule["action"][0]["fixed_response"][0]["status_code"] == "403"


def test_lock_file_has_every_platforms_checksums(tmp_path: Path) -> None:
    """linux and darwin, amd64 and arm64 can init from the lock file: the zh: hashes of every
    platform's release zip (terraform/README.md says where they came from), and the h1: of the
    linux_amd64 package that the local mirror's provider matches (terraform would refuse it
    otherwise, and leave the file changed)."""
    lock = (TERRAFORM_DIR / ".terraform.lock.hcl").read_text()
    assert 'version     = "5.100.0"' in lock
    assert len(set(re.findall(r'"zh:[0-9a-f]{64}"', lock))) == 15  # HashiCorp's SHA256SUMS
    assert '"h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0="' in lock  # linux_amd64
    mirror = provider_mirror()
    if mirror is None:
        pytest.skip("!!! no local provider mirror: the h1: hash was NOT checked against it")
    for name in ("versions.tf", ".terraform.lock.hcl"):
        shutil.copy2(TERRAFORM_DIR / name, tmp_path / name)
    done = subprocess.run(
        ["terraform", "providers", "lock", "-no-color", f"-fs-mirror={mirror}",
         "-platform=linux_amd64"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": os.environ["PATH"], "CHECKPOINT_DISABLE": "1",
             "TF_CLI_CONFIG_FILE": str(tmp_path / "none.tfrc"), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".terraform.lock.hcl").read_text() == lock


def test_no_region_specific_data_source() -> None:
    """aws_elb_service_account fails in regions newer than its table: the access-log bucket
    names the log-delivery service principal (and the ELB account where one exists) instead."""
    sources = " ".join(path.read_text() for path in TERRAFORM_DIR.glob("*.tf"))
    assert 'data "aws_elb_service_account"' not in sources
    assert "logdelivery.elasticloadbalancing.amazonaws.com" in sources


def test_plan_with_the_memory_store_has_one_task_and_no_database(
    planner: Terraform, moto: MotoServer
) -> None:
    planned = _planned(
        _plan_json(planner, moto, "-var=enable_locust=false", "-var=store=memory",
                   "-var=enable_alb_access_logs=false")
    )
    assert planned["aws_ecs_service.service[0]"]["desired_count"] == 1
    assert not [address for address in planned if "locust" in address or "internal" in address]
    assert not any(address.startswith("aws_appautoscaling") for address in planned)
    assert not [a for a in planned if a.startswith(("aws_db_", "aws_elasticache", "aws_s3_"))]
    assert planned["aws_cloudwatch_dashboard.this"]["dashboard_name"] == "loadbench"


@pytest.mark.parametrize(
    ("var_args", "messages"),
    [
        (
            (
                "-var=service_cpu=256",
                "-var=service_memory=4096",
                "-var=locust_memory=1024",
                '-var=allowed_ingress_cidrs=["not-a-cidr"]',
                "-var=log_retention_days=10",
                "-var=image_tag=bad tag",
                "-var=autoscaling_min_capacity=5",
                "-var=autoscaling_max_capacity=2",
            ),
            (
                "service_memory is not a Fargate memory size for service_cpu",
                "locust_memory is not a Fargate memory size for locust_cpu",
                "allowed_ingress_cidrs must be a non-empty list of CIDR blocks",
                "log_retention_days must be one of CloudWatch's values",
                "image_tag must be a valid image tag",
                "autoscaling_max_capacity must be a whole number from autoscaling_min_capacity",
            ),
        ),
        (
            (
                "-var=store=memory",
                "-var=service_desired_count=2",
                "-var=enable_cache=true",
                '-var=allowed_ingress_cidrs=["0.0.0.0/0"]',
                "-var=service_keep_alive_seconds=60",
                "-var=locust_ui_public=true",
                "-var=certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/abc",
            ),
            (
                'service_desired_count must be 1 with store = "memory"',
                'enable_cache needs store = "postgres"',
                "allowed_ingress_cidrs: with locust_ui_public the Locust web UI",
                "service_keep_alive_seconds must be a whole number of seconds greater than "
                "alb_idle_timeout",
            ),
        ),
        (
            ("-var=service_cpu=300", "-var=allowed_ingress_cidrs=[]", "-var=name=Bad_Name"),
            (
                "service_cpu must be a Fargate CPU size",
                "allowed_ingress_cidrs must be a non-empty list of CIDR blocks",
                "name must be 2-20 characters",
            ),
        ),
        (
            # (A plan checks allowed_ingress_cidrs against locust_ui_public only when the latter
            # is valid, hence a case of its own.)
            ("-var=locust_ui_public=true", "-var=budget_monthly_usd=20"),
            (
                "locust_ui_public = true needs certificate_arn",
                "budget_monthly_usd needs alert_email",
            ),
        ),
    ],
)
def test_bad_variables_are_refused_with_a_clear_message(
    planner: Terraform,
    moto: MotoServer,
    var_args: tuple[str, ...],
    messages: tuple[str, ...],
) -> None:
    """Several bad values per plan (each plan costs seconds): every one must be named."""
    result = planner.run(
        "plan",
        "-input=false",
        "-refresh=false",
        *MOTO_VARS,
        f"-var=aws_endpoint_url={moto.url}",
        *var_args,
        check=False,
        timeout=180,
    )
    assert result.returncode != 0
    errors = " ".join(result.stderr.split())
    for message in messages:
        assert message in errors, result.stderr
    assert errors.count("Error: Invalid value for variable") == len(messages), result.stderr
