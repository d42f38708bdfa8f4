"""``python -m scenarios.remote_results``: headless sweeps inside AWS, and their results on S3.

``launch -- SWEEP FLAGS`` (what ``make remote-sweep ARGS=...`` runs, from your machine): read the
Terraform outputs, record what is deployed (ECS and ECR APIs) and start the sweep task with
``ecs run-task``. ``run -- SWEEP FLAGS`` (the sweep task's entrypoint, inside the VPC): run
``python -m scenarios.sweep`` against the ECS Locust master and the internal load balancer,
record the deployment in the manifest, and upload the sweep directory to the results bucket.
``list`` and ``fetch SWEEP_ID`` bring finished sweeps back into ``results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scenarios.runner.remote import (
    RemoteResultsError,
    deployment,
    fetch_sweep,
    list_sweeps,
    run_task,
    run_task_request,
    upload_sweep,
)

SWEEP_OUT = Path("/tmp/results")  # the task's only writable place
EXIT_USAGE = 2


def _client(service: str, region: str | None) -> Any:
    import boto3  # the loadgen extra; imported here so that --help needs no AWS SDK

    return boto3.client(service, region_name=region,
                        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def terraform_outputs(path: Path | None) -> dict[str, Any]:
    """The ``remote_sweep`` output: from a ``terraform output -json`` file, or terraform."""
    try:
        if path is not None:
            raw = json.loads(path.read_text())
        else:
            raw = json.loads(subprocess.run(
                ["terraform", "-chdir=terraform", "output", "-json"], check=True,
                capture_output=True, text=True, timeout=120).stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        where = path or "terraform -chdir=terraform output -json"
        raise RemoteResultsError(f"{where}: cannot read the Terraform outputs: {error}") from None
    value = (raw.get("remote_sweep") or {}).get("value")
    if not value:
        raise RemoteResultsError("the stack has no remote_sweep output: deploy it with "
                                 "enable_locust = true (terraform/README.md)")
    return dict(value)


def _sweep_argv(args: list[str]) -> list[str]:
    """The task's sweep flags, completed from its environment (master, workers, host, out)."""
    argv = list(args)
    defaults = {"--master-host": os.environ.get("LOCUST_MASTER_URL"),
                "--expect-workers": os.environ.get("LOCUST_WORKERS"),
                "--host": os.environ.get("SERVICE_URL"), "--out": str(SWEEP_OUT)}
    for flag, value in defaults.items():
        if value and flag not in argv:
            argv += [flag, value]
    return argv


def run(args: list[str]) -> int:
    """Inside the sweep task: sweep, record the deployment, upload; the sweep's exit status."""
    from scenarios import sweep

    bucket, prefix = os.environ.get("RESULTS_BUCKET"), os.environ.get("RESULTS_PREFIX", "sweeps")
    if not bucket:
        raise RemoteResultsError("RESULTS_BUCKET is not set (the task definition sets it)")
    argv = _sweep_argv(args)
    out = Path(argv[argv.index("--out") + 1])
    before = set(out.iterdir()) if out.is_dir() else set()
    status = sweep.main(argv)
    created = sorted(p for p in set(out.iterdir()) - before if not p.is_symlink()) \
        if out.is_dir() else []
    if not created:
        print(f"remote sweep: the sweep wrote nothing under {out} (exit {status})",
              file=sys.stderr)
        return status or EXIT_USAGE
    sweep_dir = created[-1]
    record_deployment(sweep_dir / "manifest.json", os.environ.get("DEPLOYMENT_JSON"))
    keys = upload_sweep(_client("s3", os.environ.get("AWS_REGION")), bucket, prefix, sweep_dir)
    print(f"remote sweep: uploaded {len(keys)} files to s3://{bucket}/{prefix}/{sweep_dir.name}/"
          f"; fetch with: python -m scenarios.remote_results fetch {sweep_dir.name}")
    return status


def record_deployment(manifest_path: Path, deployment_json: str | None) -> None:
    """Put what was deployed into the manifest's ``deployment`` field (results/README.md)."""
    if not manifest_path.exists():
        return
    manifest = json.loads(manifest_path.read_text())
    try:
        manifest["deployment"] = json.loads(deployment_json) if deployment_json else None
    except ValueError:
        manifest["deployment"] = {"error": "DEPLOYMENT_JSON is not JSON"}
    partial = manifest_path.with_name(manifest_path.name + ".partial")
    partial.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(partial, manifest_path)


def launch(outputs: dict[str, Any], args: list[str], dry_run: bool = False) -> str:
    """Record the deployment and start the sweep task; its ARN (with dry_run: the request)."""
    region = outputs.get("region")
    info = deployment(_client("ecs", region), _client("ecr", region), outputs)
    request = run_task_request(outputs, args, info)
    if dry_run:
        return json.dumps(request, indent=2)
    return run_task(_client("ecs", region), request)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scenarios.remote_results",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("launch", "run"):
        command = commands.add_parser(name, help=f"{name} a sweep; flags after -- go to "
                                      "python -m scenarios.sweep")
        command.add_argument("sweep_args", nargs=argparse.REMAINDER)
        if name == "launch":
            command.add_argument("--outputs", type=Path,
                                 help="a `terraform output -json` file (default: run terraform)")
            command.add_argument("--dry-run", action="store_true",
                                 help="print the run-task request (deployment included), start "
                                      "nothing")
    for name in ("list", "fetch"):
        command = commands.add_parser(name, help=f"{name} sweeps in the results bucket")
        if name == "fetch":
            command.add_argument("sweep_id")
            command.add_argument("--out", type=Path, default=Path("results"),
                                 help="parent folder (default results)")
        command.add_argument("--outputs", type=Path,
                             help="a `terraform output -json` file (default: run terraform)")
        command.add_argument("--bucket", help="the bucket (default: the Terraform output)")
        command.add_argument("--prefix", default="sweeps")
        command.add_argument("--region", help="the bucket's region (default: the output's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; one line on stderr on error."""
    args = _parser().parse_args(argv)
    try:
        sweep_args = [a for a in getattr(args, "sweep_args", []) if a != "--"]
        if args.command == "run":
            return run(sweep_args)
        outputs = terraform_outputs(args.outputs) if args.command == "launch" or not (
            args.bucket) else {}
        if args.command == "launch":
            task = launch(outputs, sweep_args, args.dry_run)
            if args.dry_run:
                print(task)
                return 0
            print(f"remote sweep: started {task}; logs: aws logs tail {outputs['log_group']} "
                  "--follow --log-stream-name-prefix sweep; then: python -m "
                  "scenarios.remote_results list")
            return 0
        bucket = args.bucket or outputs["bucket"]
        s3 = _client("s3", args.region or outputs.get("region"))
        if args.command == "list":
            for sweep_id, complete in sorted(list_sweeps(s3, bucket, args.prefix).items()):
                print(f"{sweep_id}\t{'complete' if complete else 'uploading or incomplete'}")
            return 0
        target = fetch_sweep(s3, bucket, args.prefix, args.sweep_id, args.out)
        print(f"remote sweep: fetched into {target}; report: python -m analysis report {target}")
        return 0
    except RemoteResultsError as error:
        print(f"remote results: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # botocore: no credentials, access denied, no such bucket...
        if not type(error).__module__.startswith("botocore"):
            raise
        print(f"remote results: AWS: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
