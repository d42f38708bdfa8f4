"""``preflight``: what stops a first deploy on a new account, checked before anything is created.

Each check prints one line: ``ok`` or ``FAIL`` with the fix. The plan's values (region, the
Fargate vCPUs it runs at most) come from ``terraform console`` on the stack with its tfvars.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.aws_ops._stack import OpsError, client

# Service Quotas: "Fargate On-Demand vCPU resource count" (Spot has its own, L-36FBB829).
FARGATE_VCPU_QUOTA = ("fargate", "L-3032A538")
PLAN_EXPRESSION = ('jsonencode({region = var.aws_region, vcpus = local.fargate_vcpus_planned, '
                   'emulated = local.emulated})')


@dataclass(frozen=True)
class Check:
    """One preflight check's outcome; ``fix`` is one line (empty when ok)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # could not be checked: does not stop the deploy, says how to check

    def line(self) -> str:
        """``preflight: ok   name: detail``, ``... WARN ...`` or ``... FAIL ...; fix: ...``."""
        if self.warn:
            return f"preflight: WARN {self.name}: {self.detail}; check: {self.fix}"
        if self.ok:
            return f"preflight: ok   {self.name}: {self.detail}"
        return f"preflight: FAIL {self.name}: {self.detail}; fix: {self.fix}"


def plan_values(tf_dir: Path) -> dict[str, Any]:
    """Region and planned Fargate vCPUs of the stack with its tfvars (``terraform console``)."""
    try:
        done = subprocess.run(["terraform", f"-chdir={tf_dir}", "console", "-no-color"],
                              input=PLAN_EXPRESSION, capture_output=True, text=True,
                              timeout=120, check=True)
        return dict(json.loads(json.loads(done.stdout.strip())))
    except subprocess.CalledProcessError as error:
        lines = [ln for ln in (error.stderr or "").splitlines() if ln.strip(" │╷╵")]
        raise OpsError(f"terraform console in {tf_dir}: "
                       f"{lines[1].strip(' │') if len(lines) > 1 else 'failed'}") from None
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        raise OpsError(f"terraform console in {tf_dir}: {error}") from None


def _credentials(region: str) -> Check:
    try:
        identity = client("sts", region).get_caller_identity()
    except Exception as error:
        return Check("credentials", False, f"no usable AWS credentials ({type(error).__name__})",
                     "export AWS_PROFILE=<profile> (aws configure / aws sso login) and retry")
    return Check("credentials", True, f"account {identity['Account']} as {identity['Arn']}")


def _region(region: str) -> Check:
    try:
        regions = client("ec2", region).describe_regions(AllRegions=True)["Regions"]
    except Exception as error:
        return Check("region", False, f"{region}: cannot list regions ({type(error).__name__})",
                     "check aws_region in terraform.tfvars and that the account can use EC2")
    state = {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required") for r in regions}
    if region not in state:
        return Check("region", False, f"{region} is not an AWS region",
                     "set aws_region in terraform.tfvars to a region such as eu-west-1")
    if state[region] == "not-opted-in":
        return Check("region", False, f"{region} is not enabled for this account",
                     f"enable {region} (AWS console: Account, AWS Regions) or pick another")
    return Check("region", True, f"{region} ({state[region]})")


def _fargate_quota(region: str, needed: float) -> Check:
    service, code = FARGATE_VCPU_QUOTA
    fix = (f"aws service-quotas request-service-quota-increase --region {region} --service-code "
           f"{service} --quota-code {code} --desired-value {int(needed + 0.999)}")
    quotas = client("service-quotas", region)
    try:
        try:
            quota = quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
        except Exception as error:  # never changed on this account: the default applies
            if "NoSuchResource" not in str(error):
                raise
            quota = quotas.get_aws_default_service_quota(
                ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
    except Exception as error:
        return Check("fargate vCPU quota", True, f"cannot read quota {code} "
                     f"({type(error).__name__}); the plan needs {needed:g} vCPU",
                     f"aws service-quotas get-service-quota --region {region} --service-code "
                     f"{service} --quota-code {code}; raise it with: {fix}", warn=True)
    if float(quota) < needed:
        return Check("fargate vCPU quota", False,
                     f"{float(quota):g} vCPU in {region}, the plan needs {needed:g}", fix)
    return Check("fargate vCPU quota", True,
                 f"{float(quota):g} vCPU in {region}, the plan needs at most {needed:g}")


def _service_linked_role(region: str) -> Check:
    try:
        roles = client("iam", region).list_roles(
            PathPrefix="/aws-service-role/ecs.amazonaws.com/")["Roles"]
    except Exception as error:
        return Check("ECS service-linked role", False, f"cannot list it ({error})",
                     "allow iam:ListRoles, or create the role as its fix says: aws iam "
                     "create-service-linked-role --aws-service-name ecs.amazonaws.com")
    if not roles:
        return Check("ECS service-linked role", False,
                     "AWSServiceRoleForECS does not exist yet (a new account's first cluster "
                     "races its creation)",
                     "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com")
    return Check("ECS service-linked role", True, f"{roles[0]['RoleName']} exists")


def preflight(tf_dir: Path) -> list[Check]:
    """Every check, in order; credentials first (the others need them)."""
    plan = plan_values(tf_dir)
    region = str(plan["region"])
    checks = [_credentials(region)]
    if not checks[0].ok:
        return checks
    return [*checks, _region(region), _fargate_quota(region, float(plan["vcpus"])),
            _service_linked_role(region)]
