"""The Makefile's AWS targets, run as a user runs them, against a moto server on loopback.

One apply per storage backend, every assertion on that one apply. From an empty state:
``make preflight`` (its failure lines, then a pass), ``make deploy AUTO_APPROVE=1`` (the image
build stubbed: moto has the ECR API but no registry, so ``IMAGE_BUILD=stub`` registers a
placeholder manifest per repository), the stack read back with boto3, ``make status``, and with
store = "postgres": ``make remote-sweep DRY_RUN=1`` (moto 5.2's RunTask fails on awsvpc tasks, so
the request is printed and checked against the registered task definition and the network, not
sent), the load generators scaled up and down, ``make pause``/``make resume``, a sweep uploaded
as the sweep task uploads it, ``make remote-fetch`` and ``make remote-report``. Then
terraform.tfvars is deleted and ``make destroy AUTO_APPROVE=1`` must find the deployment's region
in the state (the memory stack lives in eu-west-1, not the default us-east-1), after which moto
must hold nothing of the stack. terraform/moto.tfvars switches off only what moto lacks.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _moto import RegionalMoto, start_moto
from _stack_checks import (
    check_buckets,
    check_database,
    check_ecs,
    check_everything_is_gone,
    check_iam,
    check_network,
    check_observability,
    check_outputs,
)
from _terraform import REPO_ROOT, TERRAFORM_DIR, Terraform, prepare

from scenarios.runner.remote import service_utilisation

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(
        shutil.which("terraform") is None or shutil.which("make") is None,
        reason="!!! terraform or make is not on PATH: the AWS make targets did NOT run !!!",
    ),
]

SWEEP = REPO_ROOT / "tests" / "data" / "sweep"
STORES = {
    "postgres": ("us-east-1", 'store = "postgres"\nservice_cpu = 2048\nservice_memory = 4096\n'),
    "memory": ("eu-west-1", 'store = "memory"\nenable_locust = false\n'
               'enable_alb_access_logs = false\naws_region = "eu-west-1"\n'),
}


def _tfvars(overrides: str) -> str:
    """terraform/moto.tfvars with some of its assignments replaced or added."""
    new = dict(line.split(" = ", 1) for line in overrides.strip().splitlines())
    kept = [line for line in (TERRAFORM_DIR / "moto.tfvars").read_text().splitlines()
            if line.split(" = ", 1)[0].strip() not in new]
    return "\n".join([*kept, *(f"{key} = {value}" for key, value in new.items())]) + "\n"


def _make(terraform: Terraform, moto_url: str, *args: str,
          timeout: float = 480) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in the repository on the test's copy of terraform/ (TF_DIR)."""
    env = {**terraform.env, "AWS_ENDPOINT_URL": moto_url, "TF_VAR_aws_endpoint_url": moto_url,
           "PYTHONPATH": str(REPO_ROOT)}
    # -o: never rebuild the venv from here (pyproject.toml may be newer than its stamp).
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *args,
         f"TF_DIR={terraform.workdir}", "AUTO_APPROVE=1", "IMAGE_BUILD=stub",
         "IMAGE_TAG=moto-test"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    print(f"make {args[0]} ({terraform.workdir.parent.name}): "
          f"{time.monotonic() - started:.1f} s")
    return result


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"{result.args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def test_make_targets_deploy_operate_and_destroy_on_moto(tmp_path: Path) -> None:
    """Both stores at once, each with its own moto server and copy of terraform/: most of an
    apply is the provider waiting (about a minute per load balancer), not CPU."""
    with ThreadPoolExecutor(max_workers=len(STORES)) as pool:
        futures = {store: pool.submit(_store_flow, tmp_path / store, store) for store in STORES}
    failures = {store: future.exception() for store, future in futures.items()}
    messages = [f"--- {store} ---\n" + "".join(traceback.format_exception(error))
                for store, error in failures.items() if error is not None]
    assert not messages, "\n".join(messages)


def _store_flow(tmp_path: Path, store: str) -> None:
    region, tfvars = STORES[store]
    workdir = tmp_path / "work"
    workdir.mkdir(parents=True)
    terraform = prepare(workdir, init=False)  # make deploy and make preflight run init
    server = start_moto(tmp_path)  # its own server: nothing left over from another test
    moto = RegionalMoto(server, region)
    (workdir / "terraform.tfvars").write_text(_tfvars(tfvars))
    postgres = locust = store == "postgres"
    deployed = False
    timings: dict[str, float] = {}
    try:
        # A new account: no ECS service-linked role yet. preflight says so in one line, with
        # the fix, and exits 1; the Fargate quota, which moto cannot tell, is a WARN line.
        # (The memory flow, the shorter one, runs it: the two flows run at once.)
        if store == "memory":
            _check_failing_preflight(terraform, server.url, region, store)
        moto.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")

        started = time.monotonic()
        deploy = _make(terraform, server.url, "deploy")
        deployed = True
        _ok(deploy)
        timings["deploy"] = time.monotonic() - started
        assert "preflight: ok   ECS service-linked role" in deploy.stdout
        # postgres: the 2-vCPU service task, master, one worker (1 vCPU each), sweep (0.5)
        assert f"the plan needs {'4.5' if postgres else '1'} vCPU" in deploy.stdout
        assert "images: " in deploy.stdout and "(stub manifest, nothing built)" in deploy.stdout
        outputs = terraform.outputs()
        assert outputs["store"] == store
        check_outputs(outputs, locust, region)
        check_network(moto, locust, postgres)
        check_ecs(moto, outputs, store, locust)
        check_iam(moto, outputs, postgres, locust)
        check_database(moto, outputs, postgres)
        check_observability(moto, postgres, locust)
        check_buckets(moto, outputs, locust)
        images = moto.client("ecr").describe_images(repositoryName="loadbench-service")
        assert [image["imageTags"] for image in images["imageDetails"]] == [["moto-test"]]

        status = _ok(_make(terraform, server.url, "status")).strip().splitlines()
        assert [line for line in status
                if line.startswith("loadbench-service: 1 running of 1 desired")], status
        assert status[-1].startswith("total: about US$") and region in status[-1]
        report = _operate(terraform, server.url, moto, outputs, tmp_path) if locust else None

        # As on a laptop after the fact: no terraform.tfvars. The region comes from the state.
        (workdir / "terraform.tfvars").unlink()
        started = time.monotonic()
        destroy = _make(terraform, server.url, "destroy", timeout=360)
        _ok(destroy)
        deployed = False
        timings["destroy"] = time.monotonic() - started
        print(f"\nmake deploy ({store}, {region}) to moto: {timings['deploy']:.0f} s, "
              f"make destroy: {timings['destroy']:.0f} s")
        check_everything_is_gone(moto)
        state = json.loads((workdir / "terraform.tfstate").read_text())  # the local backend's
        assert state["resources"] == [], [r["type"] + "." + r["name"] for r in state["resources"]]
        if report is not None:  # the report ran beside the destroy: it needs only the files
            _check_report(report.result())
    finally:
        if deployed:
            terraform.run("destroy", "-input=false", "-auto-approve", "-var-file=moto.tfvars",
                          f"-var=aws_region={region}", f"-var=aws_endpoint_url={server.url}",
                          timeout=300, check=False)
        server.stop()


def _check_failing_preflight(terraform: Terraform, url: str, region: str, store: str) -> None:
    first = _make(terraform, url, "preflight")
    assert first.returncode != 0
    lines = first.stdout.strip().splitlines()
    assert lines[0].startswith("preflight: ok   credentials: account 123456789012")
    assert f"preflight: ok   region: {region}" in lines[1]
    (role,) = [line for line in lines if "ECS service-linked role" in line]
    assert role.startswith("preflight: FAIL") and role.endswith(
        "fix: aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com")
    (quota,) = [line for line in lines if "fargate vCPU quota" in line]
    # postgres: the 2-vCPU service task, master, one worker (1 vCPU each), sweep (0.5)
    needed = "4.5 vCPU" if store == "postgres" else "1 vCPU"
    assert quota.startswith("preflight: WARN") and f"the plan needs {needed}" in quota
    assert "--quota-code L-3032A538" in quota, quota


def _operate(terraform: Terraform, url: str, moto: RegionalMoto, outputs: dict[str, Any],
             tmp_path: Path) -> Future[subprocess.CompletedProcess[str]]:
    """remote-sweep (dry run), generators, pause/resume, fetch and report on the postgres stack;
    the report (``make remote-report``) is left running, beside the destroy."""
    dry = _ok(_make(terraform, url, "remote-sweep", "DRY_RUN=1",
                    "ARGS=--preset quick --users 10"))
    request, end = json.JSONDecoder().raw_decode(dry)
    assert "matches task definition loadbench-sweep" in dry[end:]
    sweep = outputs["remote_sweep"]
    assert request["taskDefinition"] == sweep["task_definition"]
    network = request["networkConfiguration"]["awsvpcConfiguration"]
    assert (network["subnets"], network["securityGroups"]) == (
        sweep["subnets"], sweep["security_groups"])
    (override,) = request["overrides"]["containerOverrides"]
    assert override["command"] == ["--preset", "quick", "--users", "10"]
    deployed = json.loads(override["environment"][0]["value"])
    assert deployed["service"] == "loadbench-service" and deployed["store"] == "postgres"
    assert (deployed["cpu"], deployed["memory"], deployed["desired_count"]) == ("2048", "4096", 1)
    assert deployed["image_tag"] == "moto-test" and deployed["workers_per_task"] == "2"
    assert str(deployed["image_digest"]).startswith("sha256:")  # the stub manifest's
    ecs = moto.client("ecs")
    definition = ecs.describe_task_definition(taskDefinition=sweep["task_definition"])[
        "taskDefinition"]
    (container,) = definition["containerDefinitions"]
    assert container["entryPoint"][:2] == ["sh", "-c"] and "timeout" in container["entryPoint"][2]
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["MAX_LIFETIME_SECONDS"] == "14400"
    assert environment["GENERATOR_SERVICES"] == "loadbench-locust-master,loadbench-locust-worker"
    # Each point reads the service's CPU and memory from CloudWatch (the role may, the
    # monitoring endpoint carries it): the task names the service; the reader finds what ECS
    # publishes for it, on this stack's moto (test_remote_service_metrics.py: the reader's cases).
    assert (environment["CLUSTER"], environment["SERVICE_NAME"]) == ("loadbench",
                                                                     "loadbench-service")
    assert float(environment["SERVICE_METRICS_WAIT_S"]) > 60  # CloudWatch's minute comes late
    cloudwatch = moto.client("cloudwatch")
    minute = (time.time() // 60 - 5) * 60
    for name, value in (("CPUUtilization", 91.5), ("MemoryUtilization", 40.0)):
        cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=[{
            "MetricName": name, "Value": value, "Unit": "Percent",
            "Timestamp": datetime.fromtimestamp(minute + 20, tz=UTC),
            "Dimensions": [{"Name": "ClusterName", "Value": environment["CLUSTER"]},
                           {"Name": "ServiceName", "Value": environment["SERVICE_NAME"]}]}])
    read = service_utilisation(cloudwatch, environment["CLUSTER"], environment["SERVICE_NAME"],
                               minute + 5, minute + 50)
    assert read["complete"] and read["cpu_percent"] == {"mean": 91.5, "max": 91.5, "minutes": 1}
    assert read["memory_percent"]["max"] == 40.0

    ops = [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "deploy.aws_ops",
           "--tf-dir", str(terraform.workdir)]
    env = {**terraform.env, "AWS_ENDPOINT_URL": url, "PYTHONPATH": str(REPO_ROOT)}

    def counts() -> dict[str, int]:
        names = ["loadbench-service", "loadbench-locust-master", "loadbench-locust-worker"]
        return {s["serviceName"]: s["desiredCount"]
                for s in ecs.describe_services(cluster="loadbench", services=names)["services"]}

    up = subprocess.run([*ops, "generators-up", "--sweep-args=--users 10,400"], cwd=REPO_ROOT,
                        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert up.returncode == 0 and up.stdout.strip() == "1", up.stderr  # 400 users: 1 worker
    assert counts() == {"loadbench-service": 1, "loadbench-locust-master": 1,
                        "loadbench-locust-worker": 1}
    too_many = subprocess.run([*ops, "generators-up", "--workers", "3"], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert too_many.returncode == 2 and "locust_workers allows 1" in too_many.stderr
    _ok(subprocess.run([*ops, "generators-down"], cwd=REPO_ROOT, env=env, capture_output=True,
                       text=True, timeout=60, check=False))
    assert counts() == {"loadbench-service": 1, "loadbench-locust-master": 0,
                        "loadbench-locust-worker": 0}

    paused = _ok(_make(terraform, url, "pause"))
    assert "pause: database loadbench-postgres: stopping" in paused
    assert set(counts().values()) == {0}
    rds = moto.client("rds")
    assert rds.describe_db_instances()["DBInstances"][0]["DBInstanceStatus"] == "stopped"
    _ok(_make(terraform, url, "resume"))
    assert counts()["loadbench-service"] == 1
    assert rds.describe_db_instances()["DBInstances"][0]["DBInstanceStatus"] == "available"

    # What the sweep task uploads at its end, the manifest last (its entrypoint's own upload
    # runs in test_remote_results.py).
    s3 = moto.client("s3")
    # moto applies the bucket policy's TLS-only Deny without its aws:SecureTransport condition,
    # so it would refuse every call over the test's plain HTTP: the policy goes, as on a real
    # bucket the condition lets HTTPS calls through (the destroy then deletes nothing there).
    s3.delete_bucket_policy(Bucket=outputs["results_bucket"])
    files = sorted((p for p in SWEEP.rglob("*") if p.is_file()), key=lambda p: p.name ==
                   "manifest.json" and p.parent == SWEEP)
    for path in files:
        s3.put_object(Bucket=outputs["results_bucket"],
                      Key=f"sweeps/{SWEEP.name}/{path.relative_to(SWEEP).as_posix()}",
                      Body=path.read_bytes())
    results = tmp_path / "results"
    fetched = _ok(_make(terraform, url, "remote-fetch", f"SWEEP={SWEEP.name}",
                        f"RESULTS_DIR={results}"))
    assert f"fetched into {results / SWEEP.name}" in fetched
    originals = sorted(p.relative_to(SWEEP) for p in SWEEP.rglob("*") if p.is_file())
    assert originals and all(filecmp.cmp(SWEEP / p, results / SWEEP.name / p, shallow=False)
                             for p in originals)
    pool = ThreadPoolExecutor(max_workers=1)
    report = pool.submit(_make, terraform, url, "remote-report", f"SWEEP={SWEEP.name}",
                         f"RESULTS_DIR={results}", timeout=180)
    pool.shutdown(wait=False)
    return report


def _check_report(result: subprocess.CompletedProcess[str]) -> None:
    written = [Path(line) for line in _ok(result).splitlines() if line.endswith(".html")]
    assert written and written[-1].is_file() and written[-1].stat().st_size > 10_000
