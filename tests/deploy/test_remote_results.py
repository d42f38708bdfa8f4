"""A results bucket on moto: a real sweep uploaded, listed and fetched back.

The bucket is made with boto3 as terraform/s3.tf makes it (versioned, SSE-KMS by default);
test_terraform_apply.py applies s3.tf itself and checks those settings on the deployed bucket
(a targeted apply of the bucket here pulled in the Locust services and both load balancers
through the sweep role's policy, and took most of this module's time). The upload is
scenarios/runner/remote/_remote_sweep.py with a real boto3 client, list and fetch are the real
command line. The fetched sweep must be byte for byte the uploaded one, and load in the analysis.
The bucket policy (deny without TLS) is left out: moto applies its Deny without the TLS
condition, so it would refuse every object call.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _moto import MotoServer, start_moto
from _terraform import REPO_ROOT

from analysis.loading import load_sweep
from scenarios.runner.remote import upload_sweep

pytestmark = [pytest.mark.terraform]

SWEEP = REPO_ROOT / "tests" / "data" / "sweep"
BUCKET = "loadbench-results-test"


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MotoServer, str]]:
    server = start_moto(tmp_path_factory.mktemp("moto-s3"))
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
        yield server, BUCKET
    finally:
        server.stop()


def _cli(server: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **server.env(), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "scenarios.remote_results", *args],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_a_sweep_goes_up_and_comes_back_whole(bucket: tuple[MotoServer, str],
                                              tmp_path: Path) -> None:
    server, name = bucket
    s3 = server.client("s3")
    keys = upload_sweep(s3, name, "sweeps", SWEEP)
    assert keys[-1] == f"sweeps/{SWEEP.name}/manifest.json"  # the manifest goes last
    head = s3.head_object(Bucket=name, Key=keys[0])
    assert head["ServerSideEncryption"] == "aws:kms"  # the bucket's default, as s3.tf sets it
    assert head.get("VersionId") not in (None, "null")  # versioning is on

    listed = _cli(server, "list", "--bucket", name, "--region", "us-east-1")
    assert listed.returncode == 0, listed.stderr
    assert f"{SWEEP.name}\tcomplete" in listed.stdout

    fetched = _cli(server, "fetch", SWEEP.name, "--bucket", name, "--region", "us-east-1",
                   "--out", str(tmp_path))
    assert fetched.returncode == 0, fetched.stderr
    target = tmp_path / SWEEP.name
    originals = sorted(p.relative_to(SWEEP) for p in SWEEP.rglob("*") if p.is_file())
    copies = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
    assert copies == originals
    assert all(filecmp.cmp(SWEEP / p, target / p, shallow=False) for p in originals)
    assert len(load_sweep(target).points) == len(load_sweep(SWEEP).points) > 0

    again = _cli(server, "fetch", SWEEP.name, "--bucket", name, "--region", "us-east-1",
                 "--out", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_an_unfinished_or_missing_sweep_is_refused_in_one_line(
        bucket: tuple[MotoServer, str], tmp_path: Path) -> None:
    server, name = bucket
    s3 = server.client("s3")
    s3.put_object(Bucket=name, Key="sweeps/half-done/runs/x/run.json", Body=b"{}")
    for sweep_id, message in (("half-done", "no manifest.json yet"),
                              ("never-was", "no such sweep")):
        result = _cli(server, "fetch", sweep_id, "--bucket", name, "--region", "us-east-1",
                      "--out", str(tmp_path))
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert message in line and f"s3://{name}/sweeps/{sweep_id}/" in line
    assert not list(tmp_path.iterdir())
    listed = _cli(server, "list", "--bucket", name, "--region", "us-east-1")
    assert "half-done\tuploading or incomplete" in listed.stdout


@pytest.mark.load  # the sweep it runs puts live load on the machine
@pytest.mark.any_cpu
def test_the_sweep_task_entrypoint_sweeps_records_the_deployment_and_uploads(
        bucket: tuple[MotoServer, str], tmp_path: Path, service_url: str) -> None:
    """`remote_results run` as the ECS task runs it (here against the service on loopback)."""
    server, name = bucket
    deployed = {"service": "loadbench-service", "image_tag": "t1", "desired_count": 1}
    env = {**os.environ, **server.env(), "PYTHONPATH": str(REPO_ROOT), "RESULTS_BUCKET": name,
           "RESULTS_PREFIX": "sweeps", "AWS_REGION": "us-east-1",
           "DEPLOYMENT_JSON": json.dumps(deployed)}
    sweep = subprocess.run(
        [sys.executable, "-m", "scenarios.remote_results", "run", "--", "--host", service_url,
         "--user-classes", "fast", "--users", "2", "--mixes", "read-heavy", "--ramp", "1s",
         "--duration", "2s", "--seed-products", "50", "--repeats", "1",
         "--out", str(tmp_path / "task")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert sweep.returncode in (0, 1), sweep.stderr
    (sweep_dir,) = [p for p in (tmp_path / "task").iterdir() if not p.is_symlink()]
    assert f"s3://{name}/sweeps/{sweep_dir.name}/" in sweep.stdout
    fetched = _cli(server, "fetch", sweep_dir.name, "--bucket", name, "--region", "us-east-1",
                   "--out", str(tmp_path / "results"))
    assert fetched.returncode == 0, fetched.stderr
    manifest = json.loads((tmp_path / "results" / sweep_dir.name / "manifest.json").read_text())
    assert manifest["deployment"] == deployed
    assert manifest["status"] in ("complete", "finished", "done") or manifest["finished_at"]
    assert len(load_sweep(tmp_path / "results" / sweep_dir.name).points) > 0
