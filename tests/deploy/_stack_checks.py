"""What the moto server must hold after `terraform apply` of terraform/ (read back with boto3)."""

from __future__ import annotations

import json
import re
import string
from typing import Any

from _moto import MotoServer
from _terraform import TERRAFORM_DIR

ALLOWED_CIDRS = ["127.0.0.1/32"]  # as in terraform/moto.tfvars
PROJECT = [{"Name": "tag:Project", "Values": ["loadbench"]}]


def _document(document: Any) -> dict[str, Any]:
    return dict(json.loads(document) if isinstance(document, str) else document)


def _granted(document: dict[str, Any]) -> dict[str, list[str]]:
    """action -> resources of an Allow-only policy document."""
    granted: dict[str, list[str]] = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions, resources = statement["Action"], statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            granted[action] = [resources] if isinstance(resources, str) else resources
    return granted


def locust_commands() -> dict[str, list[str]]:
    """locust.tf's master and worker arguments, rendered as terraform renders them."""
    template = string.Template((TERRAFORM_DIR / "locust_commands.json.tftpl").read_text())
    rendered = template.substitute(
        locustfile="scenarios/locustfile.py", web_port=8089, master_port=5557,
        master_host="locust-master.loadbench.local", csv_prefix="/tmp/locust")
    document = json.loads(rendered)
    return {"master": document["master"], "worker": document["worker"]}


def check_outputs(outputs: dict[str, Any], locust: bool) -> None:
    assert re.fullmatch(
        r"http://loadbench-[\w-]+\.us-east-1\.elb\.amazonaws\.com", outputs["service_url"]
    )
    assert outputs["ecr_repository_url"].endswith(
        ".dkr.ecr.us-east-1.amazonaws.com/loadbench-service"
    )
    assert outputs["ecr_loadgen_repository_url"].endswith("/loadbench-loadgen")
    assert outputs["cluster_name"] == "loadbench"
    assert outputs["image_platform"] == "linux/amd64"
    assert outputs["dashboard_name"] == "loadbench"
    if not locust:  # null outputs are left out of `terraform output -json`
        assert outputs.get("locust_master_url") is None and outputs.get("remote_sweep") is None
        return
    assert re.fullmatch(
        r"http://(internal-)?loadbench-internal-[\w.-]+\.elb\.amazonaws\.com",
        outputs["service_internal_url"],
    )
    assert outputs["locust_master_url"] == outputs["service_url"] + ":8089"
    assert outputs["locust_master_dns_name"] == "locust-master.loadbench.local"
    assert outputs["locust_workers"] == 1
    assert outputs["remote_sweep"]["bucket"] == outputs["results_bucket"]


def check_network(moto: MotoServer, locust: bool, postgres: bool) -> dict[str, Any]:
    """Subnets, routes, endpoints and security groups; returns the groups by name."""
    ec2 = moto.client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=PROJECT)["Vpcs"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=in_vpc)["Subnets"]}
    names = {tag["Value"] for s in subnets.values() for tag in s.get("Tags", [])
             if tag["Key"] == "Name"}
    assert len(subnets) == 4
    assert sum(name.startswith("loadbench-private-") for name in names) == 2
    (gateway,) = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}]
    )["InternetGateways"]
    tables = {tag["Value"]: table for table in ec2.describe_route_tables(Filters=PROJECT)
              ["RouteTables"] for tag in table.get("Tags", []) if tag["Key"] == "Name"}
    public_routes = {r.get("DestinationCidrBlock"): r.get("GatewayId")
                     for r in tables["loadbench-public"]["Routes"]}
    assert public_routes.get("0.0.0.0/0") == gateway["InternetGatewayId"]
    private_routes = tables["loadbench-private"]["Routes"]
    assert not [r for r in private_routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"], (
        "the private subnets must have no route out of the VPC (no NAT gateway)")
    endpoints = ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
    services = sorted(e["ServiceName"].removeprefix("com.amazonaws.us-east-1.")
                      for e in endpoints)
    assert services == (["ecr.api", "ecr.dkr", "logs", "s3"] if locust else [])

    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=in_vpc)
              ["SecurityGroups"]}
    public_ingress = groups["loadbench-alb"]["IpPermissions"]
    assert {rule["FromPort"] for rule in public_ingress} == ({80, 8089} if locust else {80})
    assert all([r["CidrIp"] for r in rule["IpRanges"]] == ALLOWED_CIDRS
               for rule in public_ingress)
    (service_ingress,) = groups["loadbench-service"]["IpPermissions"]
    assert not service_ingress["IpRanges"], "the service must be reachable from the ALBs only"
    balancer_groups = {groups["loadbench-alb"]["GroupId"]}
    if locust:
        balancer_groups.add(groups["loadbench-internal-alb"]["GroupId"])
    assert {p["GroupId"] for p in service_ingress["UserIdGroupPairs"]} == balancer_groups
    if postgres:
        (db_ingress,) = groups["loadbench-database"]["IpPermissions"]
        assert (db_ingress["FromPort"], db_ingress["ToPort"]) == (5432, 5432)
        assert not db_ingress["IpRanges"]
        assert [p["GroupId"] for p in db_ingress["UserIdGroupPairs"]] == [
            groups["loadbench-service"]["GroupId"]]
    else:
        assert "loadbench-database" not in groups
    if locust:
        _check_locust_egress(groups)
    return groups


def _check_locust_egress(groups: dict[str, Any]) -> None:
    """The Locust tasks may talk to each other, the internal ALB and the endpoints, no more."""
    locust = groups["loadbench-locust"]
    allowed = {groups[name]["GroupId"] for name in
               ("loadbench-locust", "loadbench-internal-alb", "loadbench-endpoints")}
    egress = set()  # (port, group id or "prefix list")
    for rule in locust["IpPermissionsEgress"]:
        assert not rule.get("IpRanges"), f"Locust egress to an address range: {rule}"
        assert not rule.get("Ipv6Ranges"), rule
        egress |= {(rule["FromPort"], pair["GroupId"]) for pair in rule.get("UserIdGroupPairs", [])}
        egress |= {(rule["FromPort"], "prefix list") for _ in rule.get("PrefixListIds", [])}
    assert {group for _, group in egress} <= allowed | {"prefix list"}, egress
    assert sorted(port for port, _ in egress) == [80, 443, 443, 5557, 8089], egress


def check_ecs(moto: MotoServer, outputs: dict[str, Any], store: str, locust: bool) -> None:
    ecs = moto.client("ecs")
    (cluster,) = ecs.describe_clusters(clusters=["loadbench"])["clusters"]
    assert cluster["status"] == "ACTIVE"
    names = ["loadbench-service"] + (
        ["loadbench-locust-master", "loadbench-locust-worker"] if locust else [])
    services = {s["serviceName"]: s
                for s in ecs.describe_services(cluster="loadbench", services=names)["services"]}
    assert {name: services[name]["desiredCount"] for name in names} == dict.fromkeys(names, 1)
    assert all(service["launchType"] == "FARGATE" for service in services.values())
    assert len(services["loadbench-service"]["loadBalancers"]) == (2 if locust else 1)

    task = ecs.describe_task_definition(taskDefinition="loadbench-service")["taskDefinition"]
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    (container,) = task["containerDefinitions"]
    assert container["image"] == outputs["ecr_repository_url"] + ":moto-test"
    assert container["command"] == ["python", "-m", "target_service",
                                    "--timeout-keep-alive", "75"]
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment["STORE"] == store
    assert environment["HOST"] == "0.0.0.0"
    assert environment["PORT"] == str(container["portMappings"][0]["containerPort"]) == "8080"
    assert "/health" in " ".join(container["healthCheck"]["command"])
    assert container["readonlyRootFilesystem"] is True
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/loadbench"
    if store == "postgres":
        assert (task["cpu"], task["memory"]) == ("2048", "4096")
        assert environment["WORKERS"] == "2"  # one uvicorn worker per vCPU of a 2048-unit task
        host, port = outputs["database_endpoint"].split(":")
        assert environment["DATABASE_URL"] == f"postgresql://loadbench@{host}:{port}/loadbench"
        assert environment["PGSSLMODE"] == "require" and environment["DB_POOL_SIZE"] == "10"
        assert container["secrets"] == [{"name": "PGPASSWORD",
                                         "valueFrom": outputs["database_secret_arn"]
                                         + ":password::"}]
    else:
        assert environment["WORKERS"] == "1"
        assert "DATABASE_URL" not in environment and not container.get("secrets")
    if not locust:
        return
    for role in ("master", "worker"):
        definition = ecs.describe_task_definition(
            taskDefinition=f"loadbench-locust-{role}")["taskDefinition"]
        (container,) = definition["containerDefinitions"]
        assert container["image"] == outputs["ecr_loadgen_repository_url"] + ":moto-test"
        assert container["command"] == locust_commands()[role]
        network = services[f"loadbench-locust-{role}"]["networkConfiguration"]
        assert network["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert {"--class-picker", "--csv-full-history"} <= set(locust_commands()["master"])


def check_iam(moto: MotoServer, outputs: dict[str, Any], postgres: bool, locust: bool) -> None:
    iam = moto.client("iam")
    role = iam.get_role(RoleName="loadbench-task-execution")["Role"]
    (trust,) = _document(role["AssumeRolePolicyDocument"])["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    granted = _granted(_document(iam.get_role_policy(
        RoleName=role["RoleName"], PolicyName=policy_name)["PolicyDocument"]))
    expected = {"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "logs:CreateLogStream",
                "logs:PutLogEvents"}
    if postgres:
        expected.add("secretsmanager:GetSecretValue")
        assert granted["secretsmanager:GetSecretValue"] == [outputs["database_secret_arn"]]
    assert set(granted) == expected
    assert {a for a, resources in granted.items() if "*" in resources} == {
        "ecr:GetAuthorizationToken"}
    (group,) = moto.client("logs").describe_log_groups(
        logGroupNamePrefix="/ecs/loadbench")["logGroups"]
    assert granted["logs:PutLogEvents"] == [group["arn"].removesuffix(":*") + ":*"]
    if locust:
        (name,) = iam.list_role_policies(RoleName="loadbench-sweep-task")["PolicyNames"]
        sweep = _granted(_document(iam.get_role_policy(
            RoleName="loadbench-sweep-task", PolicyName=name)["PolicyDocument"]))
        assert sweep == {"s3:PutObject": [f"arn:aws:s3:::{outputs['results_bucket']}/sweeps/*"]}


def check_database(moto: MotoServer, outputs: dict[str, Any], postgres: bool) -> None:
    instances = moto.client("rds").describe_db_instances()["DBInstances"]
    if not postgres:
        assert instances == []
        return
    (db,) = instances
    assert db["Engine"] == "postgres" and db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MasterUserSecret"]["SecretArn"] == outputs["database_secret_arn"]
    subnet_names = {
        tag["Value"]
        for subnet in moto.client("ec2").describe_subnets(SubnetIds=[
            s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]])["Subnets"]
        for tag in subnet.get("Tags", []) if tag["Key"] == "Name"}
    assert subnet_names and all(name.startswith("loadbench-private-") for name in subnet_names)
    # The secret RDS generated and owns (moto fills it with fixed credentials of its own).
    secret = moto.client("secretsmanager").describe_secret(SecretId=outputs["database_secret_arn"])
    assert secret["Name"].startswith("rds!db-")


def check_observability(moto: MotoServer, postgres: bool, locust: bool) -> None:
    cloudwatch = moto.client("cloudwatch")
    body = json.loads(cloudwatch.get_dashboard(DashboardName="loadbench")["DashboardBody"])
    metrics = {metric[1] for widget in body["widgets"]
               for metric in widget["properties"]["metrics"]}
    assert {"RequestCount", "TargetResponseTime", "HTTPCode_Target_4XX_Count",
            "HTTPCode_Target_5XX_Count", "HealthyHostCount", "UnHealthyHostCount",
            "CPUUtilization", "MemoryUtilization", "RunningTaskCount"} <= metrics
    assert ("DatabaseConnections" in metrics) is postgres
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    balancers = ["public", "internal"] if locust else ["public"]
    assert set(alarms) == {f"loadbench-{lb}-{kind}" for lb in balancers
                           for kind in ("5xx-rate", "unhealthy-targets")}
    rate = alarms["loadbench-public-5xx-rate"]
    assert rate["Threshold"] == 1.0
    assert {q["Id"] for q in rate["Metrics"]} == {"rate", "requests", "target5xx", "elb5xx"}


def check_buckets(moto: MotoServer, outputs: dict[str, Any], locust: bool) -> None:
    s3 = moto.client("s3")
    names = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    if not locust:
        assert names == []
        return
    bucket = outputs["results_bucket"]
    assert bucket in names and any(n.startswith("loadbench-alb-logs-") for n in names)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Expiration"]["Days"] == 30
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    elbv2 = moto.client("elbv2")
    for balancer in elbv2.describe_load_balancers()["LoadBalancers"]:
        attributes = {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(
            LoadBalancerArn=balancer["LoadBalancerArn"])["Attributes"]}
        assert attributes["idle_timeout.timeout_seconds"] == "60"
        assert attributes["access_logs.s3.enabled"] == "true"


def check_everything_is_gone(moto: MotoServer) -> None:
    assert moto.client("ec2").describe_vpcs(Filters=PROJECT)["Vpcs"] == []
    assert moto.client("ecr").describe_repositories()["repositories"] == []
    assert moto.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert moto.client("servicediscovery").list_namespaces()["Namespaces"] == []
    assert moto.client("rds").describe_db_instances()["DBInstances"] == []
    assert moto.client("s3").list_buckets()["Buckets"] == []
    assert moto.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    clusters = moto.client("ecs").describe_clusters(clusters=["loadbench"])["clusters"]
    assert all(cluster["status"] == "INACTIVE" for cluster in clusters)
    roles = [role["RoleName"] for role in moto.client("iam").list_roles()["Roles"]]
    assert not [role for role in roles if role.startswith("loadbench-")]
    assert moto.client("logs").describe_log_groups(
        logGroupNamePrefix="/ecs/loadbench")["logGroups"] == []


def check_launch(moto: MotoServer, outputs: dict[str, Any], tmp_path: Any) -> None:
    """`remote_results launch --dry-run` on the applied stack: the deployment read back from
    the ECS and ECR APIs, and the run-task request it would send (moto 5.2's RunTask fails on
    awsvpc tasks, so the request is not sent here)."""
    import os
    import subprocess
    import sys

    from _terraform import REPO_ROOT

    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps({k: {"value": v} for k, v in outputs.items()}))
    env = {**os.environ, **moto.env(), "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "scenarios.remote_results", "launch", "--dry-run", "--outputs",
         str(outputs_file), "--", "--preset", "quick", "--users", "10"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    request = json.loads(result.stdout)
    sweep = outputs["remote_sweep"]
    assert request["taskDefinition"] == sweep["task_definition"]
    network = request["networkConfiguration"]["awsvpcConfiguration"]
    assert (network["subnets"], network["securityGroups"]) == (
        sweep["subnets"], sweep["security_groups"])
    (override,) = request["overrides"]["containerOverrides"]
    assert override["command"] == ["--preset", "quick", "--users", "10"]
    (variable,) = override["environment"]
    deployed = json.loads(variable["value"])
    assert variable["name"] == "DEPLOYMENT_JSON"
    assert deployed["service"] == "loadbench-service" and deployed["store"] == "postgres"
    assert (deployed["cpu"], deployed["memory"], deployed["desired_count"]) == ("2048", "4096", 1)
    assert deployed["running_count"] == 1  # as moto reports it (MOTO_ECS_SERVICE_RUNNING)
    assert deployed["image_tag"] == "moto-test" and deployed["workers_per_task"] == "2"
    assert deployed["task_definition"].endswith(":task-definition/loadbench-service:1")
