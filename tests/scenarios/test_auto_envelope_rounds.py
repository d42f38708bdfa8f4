"""`--service-cpu auto`'s rounds: the delay and users its probes run with, and when it stops.

The probes themselves put load on the machine: `test_sweep_envelope.py` runs them live and
`bench/auto_envelope.py` measures their spread. These are the rules around them.
"""

from __future__ import annotations

import pytest

from scenarios.runner import converged, probe_delay, probe_users
from scenarios.runner.config import SweepConfig

PROBE_USERS, MAX_PROBE_USERS, CONVERGED = 20, 200, 0.10  # _auto_envelope's rules


@pytest.mark.parametrize(("delays", "expected"), [
    (["none"], None), (["10"], "10"), (["40:5", "10"], "10"), (["none", "10"], None),
    (["lognormal:44:110", "20"], "20")])
def test_the_probes_run_behind_the_sweeps_smallest_delay(delays: list[str],
                                                         expected: str | None) -> None:
    spec = probe_delay(SweepConfig(rtt_delay=delays))
    assert (spec.value if spec else None) == expected


def test_enough_users_to_fill_the_guessed_capacity_through_the_delay() -> None:
    spec = probe_delay(SweepConfig(rtt_delay=["10"]))
    assert probe_users(None, spec) == PROBE_USERS  # the first round: nothing guessed yet
    assert probe_users(5000.0, None) == PROBE_USERS  # no delay: 20 users keep it busy
    # 1,000 requests/s through 10 ms (+2 ms of client and service): 12 in flight, x 1.5
    assert probe_users(1000.0, spec) == PROBE_USERS
    assert probe_users(4000.0, spec) == 72
    assert probe_users(1e6, spec) == MAX_PROBE_USERS


def test_a_round_that_chooses_its_own_quota_ends_the_sizing() -> None:
    assert not converged(0.05, None)  # the unlimited first round only guesses
    assert converged(0.05, 0.05) and converged(0.054, 0.05)
    assert not converged(0.05 * (1 + CONVERGED) + 0.001, 0.05)
    assert not converged(0.03, 0.05)
