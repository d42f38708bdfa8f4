"""``python -m deploy.aws_ops COMMAND [--tf-dir terraform]``: see deploy/aws_ops/__init__.py."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deploy.aws_ops._stack import OpsError, Stack, terraform_outputs

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.aws_ops")
    parser.add_argument("--tf-dir", type=Path, default=Path("terraform"),
                        help="the Terraform folder of the deployment (default terraform)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("preflight", help="credentials, region, Fargate quota, ECS role")
    images = commands.add_parser("images", help="build and push both images")
    images.add_argument("--tag", required=True)
    images.add_argument("--stub", action="store_true",
                        help="no registry (moto): register a placeholder manifest, build nothing")
    commands.add_parser("region", help="print the deployment's region (empty: none deployed)")
    commands.add_parser("stop-sweeps", help="stop every running sweep task")
    commands.add_parser("pause", help="sweep tasks stopped, services to 0, database stopped")
    resume = commands.add_parser("resume", help="database started, services at their counts")
    resume.add_argument("--no-wait", action="store_true")
    commands.add_parser("status", help="what runs, and its list price per hour")
    up = commands.add_parser("generators-up", help="Locust master and workers for one sweep")
    up.add_argument("--workers", type=int, default=0,
                    help="worker tasks (default: from --users and --users-per-worker)")
    up.add_argument("--users", type=int, default=0, help="the sweep's largest user count")
    up.add_argument("--sweep-args", default="",
                    help="the sweep's flags: its largest --users sizes the workers")
    up.add_argument("--users-per-worker", type=int, default=500)
    up.add_argument("--cpu-ms-per-request", type=float, default=0.0,
                    help="generator CPU per request (ms of one core) for a sweep with "
                         "--arrival-rate (default: by its user classes, deploy/aws_ops/sweeps.py)")
    commands.add_parser("generators-down", help="Locust master and workers to 0")
    commands.add_parser("locust-ui", help="print the SSM port-forwarding command to the web UI")
    check = commands.add_parser("check-request", help="validate a run-task request (JSON file)")
    check.add_argument("request", type=Path)
    return parser


def _run(args: argparse.Namespace) -> int:
    from deploy.aws_ops import images, pause, preflight, status, sweeps

    if args.command == "preflight":
        checks = preflight.preflight(args.tf_dir)
        for item in checks:
            print(item.line())
        return 0 if all(item.ok for item in checks) else 1
    if args.command == "images":
        for line in images.push_images(args.tf_dir, args.tag, args.stub):
            print(f"images: {line}")
        return 0
    if args.command == "region":
        print(terraform_outputs(args.tf_dir).get("aws_region") or "")
        return 0
    stack = Stack.load(args.tf_dir)
    if args.command == "stop-sweeps":
        arns = sweeps.stop_sweep_tasks(stack, wait_s=300)
        print(f"stop-sweeps: {len(arns)} sweep task(s) stopped in {stack.region}")
    elif args.command in ("pause", "resume"):
        done = pause.pause(stack) if args.command == "pause" else pause.resume(
            stack, wait=not args.no_wait)
        for line in done:
            print(f"{args.command}: {line}")
    elif args.command == "status":
        for line in status.status_lines(stack):
            print(line)
    elif args.command == "generators-up":
        workers = args.workers or sweeps.sweep_workers(
            args.sweep_args, args.users_per_worker, args.users, args.cpu_ms_per_request)
        started = sweeps.start_generators(stack, workers)
        print(started["workers"])  # the sweep's --expect-workers
    elif args.command == "generators-down":
        print(f"generators-down: {', '.join(sweeps.stop_generators(stack)) or 'none'} at 0")
    elif args.command == "locust-ui":
        print(sweeps.locust_ui_command(stack))
    elif args.command == "check-request":
        try:
            request = json.loads(args.request.read_text())
        except (OSError, ValueError) as error:
            raise OpsError(f"{args.request}: not a run-task request: {error}") from None
        problems = sweeps.validate_run_task_request(stack, request)
        for problem in problems:
            print(f"check-request: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(f"check-request: {args.request} matches task definition "
              f"{request['taskDefinition'].rsplit('/', 1)[-1]} and the stack's network")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; one line on stderr and exit 2 on a problem."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except OpsError as error:
        print(f"aws_ops {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # botocore: credentials, access denied, throttling...
        if not type(error).__module__.startswith("botocore"):
            raise
        print(f"aws_ops {args.command}: AWS: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
