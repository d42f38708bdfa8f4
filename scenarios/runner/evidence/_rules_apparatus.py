"""The rules about the measuring apparatus: a stalled Locust loop, a drifting window, a paced
point that fell short, a client-dominated latency, the delay proxy, and a remote service's CPU."""

from __future__ import annotations

from typing import Any

from runmodel.littles_law import TOLERANCE
from scenarios.runner.evidence._stalls import STALL_MIN_MS, stalls_in_window
from scenarios.runner.evidence._verdict_model import Findings, RunFacts, Thresholds

__all__ = ["client_dominated", "delay_proxy", "pacing", "service_limit", "stalled", "steady"]


def stalled(facts: RunFacts, thresholds: Thresholds, found: Findings,
            evidence: dict[str, Any]) -> None:
    """A Locust process that stood still long enough to change the window's throughput or tail,
    judged by the stalls' full lengths however few seconds they touch. A stall counts when it is
    longer than the window's mean response time (and 10 ms): shorter ones delay responses less
    than the service itself does (a saturated point's 10 ms stalls against a 100 ms mean)."""
    if facts.stalls is None:
        evidence["loop_stalls"] = None
        return
    counted = stalls_in_window(facts.stalls, facts.window, max(STALL_MIN_MS, facts.mean_ms or 0))
    evidence["loop_stalls"] = counted
    for name, fig in sorted(counted.items()):
        if fig["stalled_share"] >= thresholds.stalled_share:
            found.add("generator-bound", "generator-loop-stalled",
                      f"{name}'s event loop stood still for {fig['stalled_ms']:.0f} ms of the "
                      f"window ({fig['stalled_share']:.1%}; {fig['stalls']} stalls, the longest "
                      f"{fig['longest_ms']:.0f} ms; threshold {thresholds.stalled_share:.0%}): it "
                      f"sent and timed nothing meanwhile")


def steady(facts: RunFacts, thresholds: Thresholds, found: Findings,
           evidence: dict[str, Any]) -> None:
    """A window whose throughput or latency drifted describes no single state of the service."""
    steady = facts.steady_state
    evidence["steady_state"] = steady
    if not steady or not steady.get("tested"):
        return
    for series in steady.get("drifting", []):
        fig = steady[series]
        found.add("not-steady", f"not-steady-{series}",
                  f"the window's {series} drifted: its second half's mean "
                  f"{fig['second_half_mean']:g} against the first's {fig['first_half_mean']:g} "
                  f"({fig['relative_change']:+.0%}, beyond {steady['relative_threshold']:.0%} "
                  f"and {steady['z']:g} standard errors {fig['standard_error']:g})")


def pacing(facts: RunFacts, thresholds: Thresholds, found: Findings,
           evidence: dict[str, Any]) -> None:
    """A paced point that fell short of its asked rate, unless the service explains it: users
    whose requests took longer than their pacing interval could not keep the pace."""
    if facts.asked_rps is None or facts.rps is None or facts.total_requests is None:
        return
    achieved = facts.rps / facts.asked_rps
    block: dict[str, Any] = {"asked_rps": round(facts.asked_rps, 3), "achieved_rps": facts.rps,
                             "achieved_share": round(achieved, 4),
                             "threshold": thresholds.pacing_shortfall}
    evidence["pacing"] = block
    if achieved >= 1 - thresholds.pacing_shortfall:
        return
    interval_ms = 1000.0 * facts.users / facts.asked_rps
    measured = (facts.in_flight or {}).get("mean_in_flight")
    busy = (measured / facts.users if isinstance(measured, (int, float)) and facts.users
            else None)
    # The service explains it when each user's request took at least its pacing interval:
    # the users were inside their requests for (nearly) the whole window.
    on_service = (facts.mean_ms is not None and facts.mean_ms >= interval_ms
                  and (busy is None or busy >= 1 - TOLERANCE))
    block.update(pacing_interval_ms=round(interval_ms, 3), users_busy_share=busy,
                 shortfall_on_service=on_service)
    text = (f"paced at {facts.asked_rps:g} requests/s, the point achieved {facts.rps:.1f} "
            f"({achieved:.1%}, threshold {1 - thresholds.pacing_shortfall:.0%})")
    if on_service:
        found.warnings.append(f"{text}: the service's mean response time "
                              f"({facts.mean_ms:.1f} ms) is longer than the users' pacing "
                              f"interval ({interval_ms:.1f} ms), so the shortfall is the service's")
    else:
        found.add("generator-bound", "pacing-shortfall",
                  f"{text}, while the service answered in {facts.mean_ms or 0:.1f} ms on "
                  f"average, within the {interval_ms:.1f} ms pacing interval: the generator "
                  f"fell behind its schedule")


def client_dominated(facts: RunFacts, thresholds: Thresholds, found: Findings,
                     evidence: dict[str, Any]) -> None:
    """Most of the client-seen mean is the client's own time: the throughput may answer a
    capacity question, but the latency is the client's, not the service's."""
    share = facts.client_share
    evidence["client_share"] = None if share is None else round(share, 3)
    if share is not None and share > thresholds.client_share:
        found.add("client-dominated", "client-dominated",
                  f"{share:.0%} of the client-seen mean response time ({facts.mean_ms or 0:.3f} "
                  f"ms) is the client's own calibrated time (threshold "
                  f"{thresholds.client_share:.0%}): the latency figures describe the client")


def delay_proxy(facts: RunFacts, thresholds: Thresholds, found: Findings,
                evidence: dict[str, Any]) -> None:
    """The delay proxy is part of the load's apparatus: when it ran out of CPU, or its timers
    fired late enough to change the delay added, the latency is the proxy's as well."""
    proxy = facts.delay_proxy
    if proxy is None:
        return
    late = proxy.get("lateness_ms") or {}
    drawn = (proxy.get("intended_ms") or {}).get("mean")
    busiest = proxy.get("cpu_cores_busiest")
    limit = max(thresholds.delay_proxy_late_mean_ms,
                thresholds.delay_proxy_late_share * (drawn or 0.0))
    evidence["delay_proxy"] = {
        "cpu_cores": proxy.get("cpu_cores"), "cpu_cores_busiest": busiest,
        "lateness_mean_ms": late.get("mean"), "lateness_p99_ms": late.get("p99"),
        "lateness_limit_ms": round(limit, 4), "intended_mean_ms": drawn,
        "added_mean_ms": (proxy.get("added_ms") or {}).get("mean"),
        "stats_error": proxy.get("stats_error"),
        "thresholds": {"cpu_cores": thresholds.delay_proxy_cpu_cores,
                       "late_mean_ms": thresholds.delay_proxy_late_mean_ms,
                       "late_share": thresholds.delay_proxy_late_share}}
    if proxy.get("stats_error"):
        found.warnings.append(f"the delay proxy's own figures are missing: "
                              f"{proxy['stats_error']}")
        return
    if isinstance(busiest, (int, float)) and busiest >= thresholds.delay_proxy_cpu_cores:
        found.add("generator-bound", "delay-proxy-cpu",
                  f"the delay proxy used {busiest:.2f} of a core in its busiest second "
                  f"(threshold {thresholds.delay_proxy_cpu_cores:g}): it, not the service, may "
                  f"have been the bottleneck")
    mean_late = late.get("mean")
    if isinstance(mean_late, (int, float)) and mean_late > limit:
        found.add("generator-bound", "delay-proxy-late",
                  f"the delay proxy's timers fired {mean_late:.1f} ms late on average (p99 "
                  f"{late.get('p99') or 0:.1f} ms) against the {drawn or 0:.1f} ms drawn, more "
                  f"than {limit:.1f} ms (the larger of {thresholds.delay_proxy_late_mean_ms:g} ms "
                  f"and {thresholds.delay_proxy_late_share:.0%} of the delay): the delay added "
                  f"was not the one asked")


def service_limit(facts: RunFacts, thresholds: Thresholds, found: Findings,
                  evidence: dict[str, Any]) -> None:
    """A remote point: whether the service was the limit, from its tasks' CPU in CloudWatch
    (percent of their reservation per minute over the window). Changes no status: it says
    whose limit a point's throughput is, beside the generator's evidence."""
    block = facts.service_utilisation
    if not block:
        return
    cpu = block.get("cpu_percent") or {}
    memory = block.get("memory_percent") or {}
    busiest, mean = cpu.get("max"), cpu.get("mean")
    evidence["service_cpu_percent"] = {"mean": mean, "max": busiest,
                                       "complete": block.get("complete")}
    if block.get("error") or busiest is None:
        found.warnings.append("the service's CPU could not be read from CloudWatch: "
                              f"{block.get('error') or 'no value for the window'}")
        return
    limit = busiest >= thresholds.service_cpu_percent
    evidence["service_was_the_limit"] = limit
    partial = "" if block.get("complete") else (
        f" (CloudWatch had {cpu.get('minutes')} of the window's "
        f"{block.get('minutes_expected')} minutes)")
    if limit:
        found.warnings.append(
            f"the service was the limit: its busiest task used {busiest:.0f}% of its reserved "
            f"CPU in a minute of the window (the tasks' mean {mean:.0f}%, memory "
            f"{memory.get('max') or 0:.0f}% at most, threshold "
            f"{thresholds.service_cpu_percent:g}%){partial}")
