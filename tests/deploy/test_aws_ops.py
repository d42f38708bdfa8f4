"""deploy/aws_ops without AWS: the checks' lines, sizing, prices (quick tier).

The same code runs against moto in test_terraform_apply.py; here the branches moto cannot
reach: a Fargate quota that is read and too small, the default quota when none was applied.
"""

from __future__ import annotations

from typing import Any

import pytest

from deploy.aws_ops import preflight, prices, sweeps


class _Quotas:
    def __init__(self, applied: float | None, default: float) -> None:
        self.applied, self.default = applied, default

    def get_service_quota(self, **_: str) -> dict[str, Any]:
        if self.applied is None:
            raise RuntimeError("An error occurred (NoSuchResourceException) ...")
        return {"Quota": {"Value": self.applied}}

    def get_aws_default_service_quota(self, **_: str) -> dict[str, Any]:
        return {"Quota": {"Value": self.default}}


@pytest.mark.parametrize(("applied", "default", "ok"), [(6.0, 6.0, False), (None, 6.0, False),
                                                        (None, 8.0, True), (16.0, 6.0, True)])
def test_the_fargate_quota_is_compared_with_the_plan(monkeypatch: pytest.MonkeyPatch,
                                                     applied: float | None, default: float,
                                                     ok: bool) -> None:
    monkeypatch.setattr(preflight, "client", lambda *_: _Quotas(applied, default))
    check = preflight._fargate_quota("eu-west-1", 7.5)
    line = check.line()
    assert check.ok is ok and not check.warn
    if ok:
        assert line.startswith("preflight: ok   fargate vCPU quota") and "needs at most 7.5" in line
    else:
        assert line.startswith("preflight: FAIL fargate vCPU quota: 6 vCPU in eu-west-1, the "
                               "plan needs 7.5; fix: aws service-quotas "
                               "request-service-quota-increase --region eu-west-1 "
                               "--service-code fargate --quota-code L-3032A538 --desired-value 8")
    assert "\n" not in line


def test_workers_come_from_users_or_from_rate_and_generator_cpu() -> None:
    assert sweeps.largest_users("--preset quick --users 100,500,1000 --duration 30s") == 1000
    assert sweeps.largest_users("--users=40") == 40 and sweeps.largest_users("--preset q") == 0
    assert sweeps.workers_needed(1000, 500) == 2 and sweeps.workers_needed(1001, 500) == 3
    assert sweeps.workers_needed(0, 500) == 1
    # 6,000 req/s at 0.2 ms of generator CPU each = 1.2 vCPU; at 60% of 1 vCPU per worker: 2
    assert sweeps.workers_needed(10, 500, rate=6000, cpu_ms_per_request=0.2) == 2
    # From a sweep's flags: its largest arrival rate and its slowest user class's CPU per
    # request (HttpUser 0.33 ms: 3,000/s x 0.33 ms = 1 vCPU, at 60% of a worker: 2 workers)
    assert sweeps.largest_rate("--arrival-rate 50,3000 --users 10") == 3000.0
    assert sweeps.sweep_workers("--arrival-rate 50,3000", 500) == 2
    assert sweeps.sweep_workers("--arrival-rate=3000 --user-classes fast", 500) == 1
    assert sweeps.sweep_workers("--arrival-rate 3000 --user-classes fast,http", 500) == 2
    assert sweeps.sweep_workers("--arrival-rate 3000", 500, cpu_ms_per_request=1.0) == 5
    assert sweeps.sweep_workers("--users 100,1200", 500) == 3  # closed model: by users
    assert sweeps.sweep_workers("--preset quick", 500, users=600) == 2


def test_list_prices_of_a_task() -> None:
    assert prices.fargate_task_hour(1024, 2048) == pytest.approx(0.0493)
    assert prices.fargate_task_hour(1024, 2048, spot=True) == pytest.approx(0.0493 * 0.3)
