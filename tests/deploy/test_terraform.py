"""terraform/ checked, planned, applied and destroyed for real against a moto server on loopback.

Each test works on its own copy of terraform/ in a temporary directory (state, .terraform and the
CLI config live there), with the AWS provider from the machine's filesystem mirror. The moto run
uses terraform/moto.tfvars, which switches off only what moto lacks (autoscaling).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _moto import MotoServer, start_moto
from _terraform import TERRAFORM_DIR, Terraform, prepare

TERRAFORM_MISSING = shutil.which("terraform") is None

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(
        TERRAFORM_MISSING,
        reason="!!! terraform is not on PATH: fmt/validate/plan/apply/destroy did NOT run !!!",
    ),
]

MOTO_VARS = ("-var-file=moto.tfvars",)
APPLY_VARS = ("-var=service_cpu=2048", "-var=service_memory=4096")
ALLOWED_CIDRS = ["127.0.0.1/32"]  # as in terraform/moto.tfvars


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
            "-var=service_cpu=4096",
            "-var=service_memory=8192",
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


def test_plan_without_locust_has_no_locust_resources(planner: Terraform, moto: MotoServer) -> None:
    planned = _planned(_plan_json(planner, moto, "-var=enable_locust=false"))
    assert "aws_ecs_service.service" in planned
    assert not [address for address in planned if "locust" in address or "internal" in address]
    assert not any(address.startswith("aws_appautoscaling") for address in planned)


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
            ("-var=service_cpu=300", "-var=allowed_ingress_cidrs=[]", "-var=name=Bad_Name"),
            (
                "service_cpu must be a Fargate CPU size",
                "allowed_ingress_cidrs must be a non-empty list of CIDR blocks",
                "name must be 2-20 characters",
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


# ------------------------------------------------------------------------------------------------
# The whole stack, applied to moto and destroyed
# ------------------------------------------------------------------------------------------------


def _check_outputs(outputs: dict[str, Any]) -> None:
    assert re.fullmatch(
        r"http://loadbench-[\w-]+\.us-east-1\.elb\.amazonaws\.com", outputs["service_url"]
    )
    assert re.fullmatch(
        r"http://(internal-)?loadbench-internal-[\w.-]+\.elb\.amazonaws\.com",
        outputs["service_internal_url"],
    )
    assert outputs["locust_master_url"] == outputs["service_url"] + ":8089"
    assert outputs["ecr_repository_url"].endswith(
        ".dkr.ecr.us-east-1.amazonaws.com/loadbench-service"
    )
    assert outputs["ecr_loadgen_repository_url"].endswith("/loadbench-loadgen")
    assert outputs["cluster_name"] == "loadbench"
    assert outputs["locust_master_dns_name"] == "locust-master.loadbench.local"
    assert outputs["locust_workers"] == 2


def _check_network(moto: MotoServer) -> None:
    ec2 = moto.client("ec2")
    project = [{"Name": "tag:Project", "Values": ["loadbench"]}]
    (vpc,) = ec2.describe_vpcs(Filters=project)["Vpcs"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    subnets = ec2.describe_subnets(Filters=in_vpc)["Subnets"]
    assert len(subnets) == 2
    assert len({subnet["AvailabilityZone"] for subnet in subnets}) == 2
    (gateway,) = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}]
    )["InternetGateways"]
    routes = [
        route
        for table in ec2.describe_route_tables(Filters=project)["RouteTables"]
        for route in table["Routes"]
    ]
    assert {"0.0.0.0/0": gateway["InternetGatewayId"]}.items() <= {
        route.get("DestinationCidrBlock"): route.get("GatewayId") for route in routes
    }.items()
    groups = {
        group["GroupName"]: group
        for group in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
    }
    public_ingress = groups["loadbench-alb"]["IpPermissions"]
    assert {rule["FromPort"] for rule in public_ingress} == {80, 8089}
    assert all([r["CidrIp"] for r in rule["IpRanges"]] == ALLOWED_CIDRS for rule in public_ingress)
    (service_ingress,) = groups["loadbench-service"]["IpPermissions"]
    assert not service_ingress["IpRanges"], (
        "service tasks must be reachable only from the load balancers"
    )
    assert {pair["GroupId"] for pair in service_ingress["UserIdGroupPairs"]} == {
        groups["loadbench-alb"]["GroupId"],
        groups["loadbench-internal-alb"]["GroupId"],
    }


def _check_ecs(moto: MotoServer, outputs: dict[str, Any]) -> None:
    ecs = moto.client("ecs")
    (cluster,) = ecs.describe_clusters(clusters=["loadbench"])["clusters"]
    assert cluster["status"] == "ACTIVE"
    names = ["loadbench-service", "loadbench-locust-master", "loadbench-locust-worker"]
    services = {
        s["serviceName"]: s
        for s in ecs.describe_services(cluster="loadbench", services=names)["services"]
    }
    assert {name: services[name]["desiredCount"] for name in names} == dict(
        zip(names, [2, 1, 2], strict=True)
    )
    assert all(service["launchType"] == "FARGATE" for service in services.values())
    assert len(services["loadbench-service"]["loadBalancers"]) == 2  # public and internal
    assert services["loadbench-locust-master"]["serviceRegistries"]

    task = ecs.describe_task_definition(taskDefinition="loadbench-service")["taskDefinition"]
    assert (task["cpu"], task["memory"], task["networkMode"]) == ("2048", "4096", "awsvpc")
    (container,) = task["containerDefinitions"]
    assert container["image"] == outputs["ecr_repository_url"] + ":moto-test"
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment["WORKERS"] == "2"  # one uvicorn worker per vCPU of a 2048-unit task
    assert environment["HOST"] == "0.0.0.0"
    assert environment["PORT"] == str(container["portMappings"][0]["containerPort"]) == "8080"
    assert "/health" in " ".join(container["healthCheck"]["command"])
    assert container["readonlyRootFilesystem"] is True
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/loadbench"

    worker = ecs.describe_task_definition(taskDefinition="loadbench-locust-worker")[
        "taskDefinition"
    ]
    (container,) = worker["containerDefinitions"]
    assert container["image"] == outputs["ecr_loadgen_repository_url"] + ":moto-test"
    assert container["command"][-4:] == [
        "--master-host",
        "locust-master.loadbench.local",
        "--master-port",
        "5557",
    ]


def _check_registry_roles_logs(moto: MotoServer) -> None:
    ecr = moto.client("ecr")
    repositories = ecr.describe_repositories()["repositories"]
    assert sorted(r["repositoryName"] for r in repositories) == [
        "loadbench-loadgen",
        "loadbench-service",
    ]
    for repository in repositories:
        assert repository["imageTagMutability"] == "IMMUTABLE"
        assert repository["imageScanningConfiguration"]["scanOnPush"] is True
        policy = ecr.get_lifecycle_policy(repositoryName=repository["repositoryName"])
        assert len(json.loads(policy["lifecyclePolicyText"])["rules"]) == 2

    (group,) = moto.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/loadbench")[
        "logGroups"
    ]
    assert group["retentionInDays"] == 14
    group_arn = group["arn"].removesuffix(":*")

    iam = moto.client("iam")
    role = "loadbench-task-execution"
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    granted: dict[str, list[str]] = {}  # action -> resources, from the role's only (inline) policy
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions, resources = statement["Action"], statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            granted[action] = [resources] if isinstance(resources, str) else resources
    assert set(granted) == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    wildcard = {action for action, resources in granted.items() if "*" in resources}
    assert wildcard == {"ecr:GetAuthorizationToken"}  # the one action AWS cannot scope
    assert all(arn.startswith("arn:aws:ecr:") for arn in granted["ecr:BatchGetImage"])
    assert granted["logs:PutLogEvents"] == [group_arn + ":*"]


def _check_load_balancers_and_discovery(moto: MotoServer, outputs: dict[str, Any]) -> None:
    elbv2 = moto.client("elbv2")
    balancers = {b["LoadBalancerName"]: b for b in elbv2.describe_load_balancers()["LoadBalancers"]}
    assert {"loadbench", "loadbench-internal"} <= set(balancers)
    assert outputs["service_url"] == "http://" + balancers["loadbench"]["DNSName"]
    assert balancers["loadbench-internal"]["Scheme"] == "internal"
    listeners = elbv2.describe_listeners(LoadBalancerArn=balancers["loadbench"]["LoadBalancerArn"])
    assert sorted(listener["Port"] for listener in listeners["Listeners"]) == [80, 8089]
    groups = {g["TargetGroupName"]: g for g in elbv2.describe_target_groups()["TargetGroups"]}
    assert groups["loadbench-service"]["HealthCheckPath"] == "/health"
    assert groups["loadbench-service"]["TargetType"] == "ip"

    discovery = moto.client("servicediscovery")
    namespaces = [n["Name"] for n in discovery.list_namespaces()["Namespaces"]]
    assert namespaces == ["loadbench.local"]
    assert [s["Name"] for s in discovery.list_services()["Services"]] == ["locust-master"]


def _check_everything_is_gone(moto: MotoServer) -> None:
    project = [{"Name": "tag:Project", "Values": ["loadbench"]}]
    assert moto.client("ec2").describe_vpcs(Filters=project)["Vpcs"] == []
    assert moto.client("ecr").describe_repositories()["repositories"] == []
    assert moto.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert moto.client("servicediscovery").list_namespaces()["Namespaces"] == []
    clusters = moto.client("ecs").describe_clusters(clusters=["loadbench"])["clusters"]
    assert all(cluster["status"] == "INACTIVE" for cluster in clusters)
    roles = [role["RoleName"] for role in moto.client("iam").list_roles()["Roles"]]
    assert "loadbench-task-execution" not in roles
    assert (
        moto.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/loadbench")["logGroups"]
        == []
    )


def test_whole_stack_applies_to_moto_and_destroys(tmp_path: Path) -> None:
    """Apply everything (Locust on ECS included, autoscaling off), check moto holds it, destroy."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    terraform = prepare(workdir)
    server = start_moto(tmp_path)  # its own server: nothing left over from the plan tests
    endpoint = f"-var=aws_endpoint_url={server.url}"
    applied = False
    try:
        started = time.monotonic()
        terraform.run(
            "apply", "-input=false", "-auto-approve", *MOTO_VARS, *APPLY_VARS, endpoint, timeout=480
        )
        applied = True
        apply_seconds = time.monotonic() - started
        outputs = terraform.outputs()
        _check_outputs(outputs)
        _check_network(server)
        _check_ecs(server, outputs)
        _check_registry_roles_logs(server)
        _check_load_balancers_and_discovery(server, outputs)

        started = time.monotonic()
        terraform.run("destroy", "-input=false", "-auto-approve", *MOTO_VARS, endpoint, timeout=300)
        applied = False
        destroy_seconds = time.monotonic() - started
        print(f"\nterraform apply to moto: {apply_seconds:.0f} s, destroy: {destroy_seconds:.0f} s")
        _check_everything_is_gone(server)
        state = json.loads(terraform.run("show", "-json").stdout)
        assert "values" not in state or not state["values"]["root_module"].get("resources")
    finally:
        if applied:
            terraform.run(
                "destroy",
                "-input=false",
                "-auto-approve",
                *MOTO_VARS,
                endpoint,
                timeout=300,
                check=False,
            )
        server.stop()
