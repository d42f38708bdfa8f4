"""What the moto server must hold after `terraform apply` of terraform/ (read back with boto3)."""

from __future__ import annotations

import json
import re
import string
from typing import Any

from _moto import MotoServer, RegionalMoto
from _terraform import TERRAFORM_DIR

ALLOWED_CIDRS = ["127.0.0.1/32"]  # as in terraform/moto.tfvars
PROJECT = [{"Name": "tag:Project", "Values": ["loadbench"]}]


def _document(document: Any) -> dict[str, Any]:
    return dict(json.loads(document) if isinstance(document, str) else document)


def _granted(document: dict[str, Any]) -> dict[str, list[str]]:
    """action -> resources (sorted, over all statements) of an Allow-only policy document."""
    granted: dict[str, list[str]] = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions, resources = statement["Action"], statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            granted[action] = sorted({*granted.get(action, []),
                                      *([resources] if isinstance(resources, str) else resources)})
    return granted


def locust_commands() -> dict[str, list[str]]:
    """locust.tf's master and worker arguments, rendered as terraform renders them."""
    template = string.Template((TERRAFORM_DIR / "locust_commands.json.tftpl").read_text())
    rendered = template.substitute(
        locustfile="scenarios/locustfile.py", web_port=8089, master_port=5557,
        master_host="locust-master.loadbench.local", csv_prefix="/tmp/locust")
    document = json.loads(rendered)
    return {"master": document["master"], "worker": document["worker"]}


def check_outputs(outputs: dict[str, Any], locust: bool, region: str = "us-east-1") -> None:
    assert outputs["aws_region"] == outputs["operations"]["region"] == region
    assert re.fullmatch(
        rf"http://loadbench-[\w-]+\.{region}\.elb\.amazonaws\.com", outputs["service_url"]
    )
    assert outputs["ecr_repository_url"].endswith(
        f".dkr.ecr.{region}.amazonaws.com/loadbench-service"
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
    # The web UI is private by default: the local end of `make locust-ui` (SSM port forwarding).
    assert outputs["locust_master_url"] == "http://127.0.0.1:8089"
    assert outputs["locust_master_dns_name"] == "locust-master.loadbench.local"
    assert outputs["locust_workers"] == 1
    assert outputs["remote_sweep"]["bucket"] == outputs["results_bucket"]


def check_network(moto: MotoServer | RegionalMoto, locust: bool,
                  postgres: bool) -> dict[str, Any]:
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
    services = sorted(e["ServiceName"].split(".", 3)[-1] for e in endpoints)
    assert services == (["ecr.api", "ecr.dkr", "ecs", "logs", "monitoring", "s3",
                         "secretsmanager", "ssmmessages"] if locust else [])

    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=in_vpc)
              ["SecurityGroups"]}
    public_ingress = groups["loadbench-alb"]["IpPermissions"]
    # No Locust UI port: the UI is private unless locust_ui_public (then TLS and a login).
    assert {rule["FromPort"] for rule in public_ingress} == {80}
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


def check_ecs(moto: MotoServer | RegionalMoto, outputs: dict[str, Any], store: str,
              locust: bool) -> None:
    ecs = moto.client("ecs")
    (cluster,) = ecs.describe_clusters(clusters=["loadbench"])["clusters"]
    assert cluster["status"] == "ACTIVE"
    names = ["loadbench-service"] + (
        ["loadbench-locust-master", "loadbench-locust-worker"] if locust else [])
    services = {s["serviceName"]: s
                for s in ecs.describe_services(cluster="loadbench", services=names)["services"]}
    # The Locust services run no task between sweeps (make remote-sweep scales them up).
    assert {name: services[name]["desiredCount"] for name in names} == {
        name: 1 if name == "loadbench-service" else 0 for name in names}
    assert all(service["launchType"] == "FARGATE" for service in services.values())
    assert len(services["loadbench-service"]["loadBalancers"]) == (2 if locust else 1)

    task = ecs.describe_task_definition(taskDefinition="loadbench-service")["taskDefinition"]
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    container, collector = task["containerDefinitions"]
    assert collector["name"] == "metrics-collector" and collector["essential"] is False
    assert "127.0.0.1:9100" in {e["name"]: e["value"] for e in collector["environment"]}[
        "AOT_CONFIG_CONTENT"]
    assert task["taskRoleArn"].endswith(":role/loadbench-service-metrics")
    assert container["image"] == outputs["ecr_repository_url"] + ":moto-test"
    assert container["command"] == ["python", "-m", "target_service",
                                    "--timeout-keep-alive", "75"]
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment["STORE"] == store
    assert environment["METRICS_PORT"] == "9100"  # the sidecar scrapes that port
    assert environment["HOST"] == "0.0.0.0"
    assert environment["PORT"] == str(container["portMappings"][0]["containerPort"]) == "8080"
    # Liveness for ECS, readiness for the load balancers: neither fails under saturation.
    assert "/health/live" in " ".join(container["healthCheck"]["command"])
    tg_paths = {g["HealthCheckPath"] for g in moto.client("elbv2").describe_target_groups()[
        "TargetGroups"] if g["TargetGroupName"].startswith(("loadbench-service", "loadbench-isvc"))}
    assert tg_paths == {"/health/ready"}
    secrets = {item["name"]: item["valueFrom"] for item in container.get("secrets", [])}
    assert ":secret:loadbench-admin-token-" in secrets.pop("ADMIN_TOKEN")
    assert container["readonlyRootFilesystem"] is True
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/loadbench"
    if store == "postgres":
        assert (task["cpu"], task["memory"]) == ("2048", "4096")
        assert environment["WORKERS"] == "2"  # one uvicorn worker per vCPU of a 2048-unit task
        host, port = outputs["database_endpoint"].split(":")
        assert environment["DATABASE_URL"] == f"postgresql://loadbench@{host}:{port}/loadbench"
        assert environment["PGSSLMODE"] == "require" and environment["DB_POOL_SIZE"] == "10"
        assert secrets == {"PGPASSWORD": outputs["database_secret_arn"] + ":password::"}
    else:
        assert environment["WORKERS"] == "1"
        assert "DATABASE_URL" not in environment and not secrets
    assert "STORE_CAPACITY" not in environment  # no cap below the disk
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


def check_iam(moto: MotoServer | RegionalMoto, outputs: dict[str, Any], postgres: bool,
              locust: bool) -> None:
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
                "logs:PutLogEvents", "secretsmanager:GetSecretValue"}
    secrets = granted["secretsmanager:GetSecretValue"]
    assert [arn for arn in secrets if ":secret:loadbench-admin-token-" in arn]
    assert (outputs.get("database_secret_arn") in secrets) is postgres and len(secrets) == (
        2 if postgres else 1)
    assert set(granted) == expected
    assert {a for a, resources in granted.items() if "*" in resources} == {
        "ecr:GetAuthorizationToken"}
    groups = {g["logGroupName"]: g for g in moto.client("logs").describe_log_groups(
        logGroupNamePrefix="/ecs/loadbench")["logGroups"]}
    group = groups["/ecs/loadbench"]
    assert granted["logs:PutLogEvents"] == [group["arn"].removesuffix(":*") + ":*"]
    # Every log group the stack writes to exists before its writer, with a retention.
    pre_created = ["/ecs/loadbench/service-metrics",
                   "/aws/ecs/containerinsights/loadbench/performance"] + (
        ["/aws/rds/instance/loadbench-postgres/postgresql"] if postgres else [])
    logs = moto.client("logs")
    for name in ["/ecs/loadbench", *pre_created]:
        (found,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][:1]
        assert found["logGroupName"] == name and found["retentionInDays"] == 14, found
    if locust:
        (name,) = iam.list_role_policies(RoleName="loadbench-sweep-task")["PolicyNames"]
        sweep = _granted(_document(iam.get_role_policy(
            RoleName="loadbench-sweep-task", PolicyName=name)["PolicyDocument"]))
        assert sweep["s3:PutObject"] == [f"arn:aws:s3:::{outputs['results_bucket']}/sweeps/*"]
        assert set(sweep) == {"s3:PutObject", "ecs:UpdateService", "cloudwatch:GetMetricData"}
        # GetMetricData has no resource-level permissions: "*" is the only resource it takes
        assert sweep["cloudwatch:GetMetricData"] == ["*"]
        assert [arn.rsplit("/", 1)[-1] for arn in sweep["ecs:UpdateService"]] == [
            "loadbench-locust-master", "loadbench-locust-worker"]


def check_database(moto: MotoServer | RegionalMoto, outputs: dict[str, Any],
                   postgres: bool) -> None:
    instances = moto.client("rds").describe_db_instances()["DBInstances"]
    if not postgres:
        assert instances == []
        return
    (db,) = instances
    assert db["Engine"] == "postgres" and db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MaxAllocatedStorage"] == 200 > db["AllocatedStorage"]  # storage autoscaling
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


def check_observability(moto: MotoServer | RegionalMoto, postgres: bool, locust: bool) -> None:
    cloudwatch = moto.client("cloudwatch")
    body = json.loads(cloudwatch.get_dashboard(DashboardName="loadbench")["DashboardBody"])
    metrics = {metric[1] for widget in body["widgets"]
               for metric in widget["properties"]["metrics"] if len(metric) > 1}
    assert "loadbench_server_request_duration_seconds" in metrics  # the sidecar's, per route
    assert ({"CPUCreditBalance", "FreeStorageSpace"} <= metrics) is postgres
    assert {"RequestCount", "TargetResponseTime", "HTTPCode_Target_4XX_Count",
            "HTTPCode_Target_5XX_Count", "HealthyHostCount", "UnHealthyHostCount",
            "CPUUtilization", "MemoryUtilization", "RunningTaskCount"} <= metrics
    assert ("DatabaseConnections" in metrics) is postgres
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    balancers = ["public", "internal"] if locust else ["public"]
    assert set(alarms) == {f"loadbench-{lb}-{kind}" for lb in balancers
                           for kind in ("5xx-rate", "unhealthy-targets")} | (
        {"loadbench-database-free-storage"} if postgres else set())
    (topic,) = [t["TopicArn"] for t in moto.client("sns").list_topics()["Topics"]
                if t["TopicArn"].endswith(":loadbench-alarms")]
    assert all(alarm["AlarmActions"] == [topic] for alarm in alarms.values())
    rate = alarms["loadbench-public-5xx-rate"]
    assert rate["Threshold"] == 1.0
    assert {q["Id"] for q in rate["Metrics"]} == {"rate", "requests", "target5xx", "elb5xx"}


def check_buckets(moto: MotoServer | RegionalMoto, outputs: dict[str, Any],
                  locust: bool) -> None:
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


def check_everything_is_gone(moto: MotoServer | RegionalMoto) -> None:
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
    log_groups = [g["logGroupName"] for g in moto.client("logs").describe_log_groups()[
        "logGroups"]]
    assert not [name for name in log_groups if "loadbench" in name], log_groups
    secrets = [s["Name"] for s in moto.client("secretsmanager").list_secrets()["SecretList"]]
    # (RDS deletes its own rds!db-... secret with the instance on AWS; moto keeps it.)
    assert not [name for name in secrets if name.startswith("loadbench-")], secrets
    assert moto.client("sns").list_topics()["Topics"] == []
    assert moto.client("servicediscovery").list_services()["Services"] == []
    assert moto.client("ecs").list_task_definitions(status="ACTIVE")["taskDefinitionArns"] == []
    assert moto.client("cloudwatch").list_dashboards()["DashboardEntries"] == []


def check_launch(moto: MotoServer | RegionalMoto, outputs: dict[str, Any],
                 tmp_path: Any) -> None:
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
