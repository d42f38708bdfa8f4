"""Little's law as a verdict rule: a closed-model point's users against its requests in flight
(completed and measured), and an open-model point's offered rate, drops and schedule lag."""

from __future__ import annotations

from typing import Any

from scenarios.runner.evidence._health import littles_residual
from scenarios.runner.evidence._verdict_model import Findings, RunFacts, Thresholds

__all__ = ["effective_residual", "littles_law", "open_model"]


def measured_residual(facts: RunFacts) -> float | None:
    """(users - the generator's measured mean requests in flight) / users, closed model only."""
    measured = (facts.in_flight or {}).get("mean_in_flight")
    if not facts.closed_model or not facts.users or not isinstance(measured, (int, float)):
        return None
    return round((facts.users - measured) / facts.users, 4)


def completed_residual(facts: RunFacts) -> float | None:
    """(users - rps x mean response time) / users over the completed requests, closed model."""
    return littles_residual(facts.users, facts.rps, facts.mean_ms) if facts.closed_model \
        else None


def effective_residual(facts: RunFacts) -> float | None:
    """The share of the window the users spent outside their requests: measured by the
    generator where it counted its requests in flight, else inferred from completed requests."""
    measured = measured_residual(facts)
    return measured if measured is not None else completed_residual(facts)


def unanswered(facts: RunFacts) -> str:
    flight = facts.in_flight or {}
    text = f"{flight.get('in_flight_at_end', 0)} requests were still unanswered at its end"
    if flight.get("oldest_s") is not None:
        text += f" (the oldest sent {flight['oldest_s']:.1f} s before)"
    for edge, queues in facts.service_sockets.items():
        accept, unread = (queues or {}).get("accept_queue", 0), (queues or {}).get(
            "unread_connections", 0)
        if accept or unread:
            text += (f"; at the window's {edge} the service had {accept} connections waiting "
                     f"to be accepted and {unread} holding a request it had not read")
    return text


def littles_law(facts: RunFacts, thresholds: Thresholds, found: Findings,
                evidence: dict[str, Any]) -> None:
    residual = completed_residual(facts)
    measured = measured_residual(facts)
    flight = facts.in_flight or {}
    evidence["littles_law"] = {"closed_model": facts.closed_model, "users": facts.users,
                               "rps": facts.rps, "mean_ms": facts.mean_ms, "residual": residual,
                               "measured_in_flight": flight.get("mean_in_flight"),
                               "measured_residual": measured,
                               "in_flight_at_end": flight.get("in_flight_at_end"),
                               "oldest_in_flight_s": flight.get("oldest_s"),
                               "censored_request_seconds": flight.get("censored_request_seconds"),
                               "carried_in_request_seconds":
                                   flight.get("carried_in_request_seconds"),
                               "service_sockets": facts.service_sockets or None,
                               "tolerance": thresholds.littles_tolerance}
    if residual is None or facts.total_requests is None:
        return
    tolerance = thresholds.littles_tolerance
    in_flight = facts.users * (1 - residual)
    completed = (f"{facts.rps:.0f} rps x {facts.mean_ms:.2f} ms = {in_flight:.1f} requests in "
                 f"flight")
    if measured is not None and measured > tolerance:
        found.add("generator-bound", "littles-law",
                  f"Little's law: the generator counted {flight['mean_in_flight']:.1f} requests "
                  f"in flight on average for {facts.users} users ({completed}): the users spent "
                  f"{measured:.0%} of the window outside their requests (tolerance "
                  f"{tolerance:.0%})")
    elif (residual > tolerance and measured is not None
          and censoring_explains(facts, residual, tolerance)):
        found.warnings.append(
            f"Little's law over completed requests gives {completed} for {facts.users} users, "
            f"but the generator counted {flight['mean_in_flight']:.1f} in flight on average "
            f"(residual {measured:+.2f}): the users were waiting on the service, and "
            f"{unanswered(facts)}; the latency figures leave those requests out")
    elif residual > tolerance and measured is not None:
        found.add("generator-bound", "littles-law",
                  f"Little's law: {facts.users} users but {completed} by Locust's completed "
                  f"requests, against {flight['mean_in_flight']:.1f} counted by the generator, "
                  f"and the requests open at the window's end do not account for the gap "
                  f"(tolerance {tolerance:.0%}): the window's figures cannot be trusted")
    elif residual > tolerance:
        found.add("generator-bound", "littles-law",
                  f"Little's law: {facts.users} users but {completed}: the users spent "
                  f"{residual:.0%} of the window outside their requests (tolerance "
                  f"{tolerance:.0%})")
    elif residual < -tolerance:
        found.add("inconsistent", "littles-law",
                  f"Little's law: {completed}, more than the {facts.users} users (residual "
                  f"{residual:.0%}, tolerance {tolerance:.0%}): the window's count or times "
                  f"are not the window's")


def censoring_explains(facts: RunFacts, residual: float, tolerance: float) -> bool:
    """The gap between the measured and the inferred requests in flight is the time of the
    requests still open at the window's end, less the time before the window of those that
    completed in it (which their response times carry in), within the tolerance, in users."""
    flight = facts.in_flight or {}
    window = flight.get("window_s") or facts.window_s
    censored = flight.get("censored_request_seconds")
    if not window or censored is None or not facts.users:
        return False
    carried_in = float(flight.get("carried_in_request_seconds") or 0.0)
    gap = flight["mean_in_flight"] - facts.users * (1 - residual)
    return abs(gap - (censored - carried_in) / window) <= facts.users * tolerance


def open_model(facts: RunFacts, thresholds: Thresholds, found: Findings,
               evidence: dict[str, Any]) -> None:
    """An open-model point whose generator dropped arrivals or started them late did not
    offer the load it names: generator-bound, with the counts as evidence."""
    figures = facts.open_model
    if figures is None:
        return
    evidence["open_model"] = figures
    intended, dropped = int(figures.get("intended") or 0), int(figures.get("dropped") or 0)
    if intended and dropped / intended > thresholds.dropped_arrivals:
        found.add("generator-bound", "dropped-arrivals",
                  f"the generator dropped {dropped} of {intended} arrivals "
                  f"({100 * dropped / intended:.2f}%, above {100 * thresholds.dropped_arrivals:g}%"
                  "): no free user in its pool; the offered rate was not the one asked")
    open_littles_law(facts, figures, thresholds, found, evidence)
    lag = figures.get("lag_p99_ms")
    if lag is not None and lag > thresholds.schedule_lag_p99_ms:
        found.add("generator-bound", "schedule-lag",
                  f"the generator started its arrivals late: schedule lag p99 {lag:.1f} ms "
                  f"(above {thresholds.schedule_lag_p99_ms:g} ms)")


def open_littles_law(facts: RunFacts, figures: dict[str, Any], thresholds: Thresholds,
                     found: Findings, evidence: dict[str, Any]) -> None:
    """Little's law with the offered rate: requests in flight = offered rate × mean time from
    the send, against the generator's own count (an open model has no fixed population)."""
    offered, flight = figures.get("offered_rps"), (facts.in_flight or {}).get("mean_in_flight")
    if not offered or facts.mean_ms is None or flight is None:
        return
    expected = float(offered) * facts.mean_ms / 1000.0
    residual = 1 - float(flight) / expected if expected > 0 else None
    evidence["open_model_littles_law"] = {
        "offered_rps": offered, "mean_ms": facts.mean_ms, "expected_in_flight": expected,
        "measured_in_flight": flight, "residual": residual,
        "tolerance": thresholds.littles_tolerance}
    if (residual is not None and abs(residual) > thresholds.littles_tolerance
            and abs(float(flight) - expected) >= 1.0):
        found.add("generator-bound", "littles-law",
                  f"Little's law with the offered rate: {offered:.1f}/s × {facts.mean_ms:.2f} ms "
                  f"= {expected:.1f} requests in flight, but the generator counted {flight:.1f}: "
                  f"the offered load was not the one sent (tolerance "
                  f"{thresholds.littles_tolerance:.0%})")
