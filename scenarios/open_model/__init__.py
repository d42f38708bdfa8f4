"""The open model: arrival-rate executors for the product locustfile.

``--arrival-rate R`` (or ``--arrival-stages``) makes the users of ``scenarios/locustfile.py`` a
pre-allocated pool served by a schedule of arrivals (uniform or Poisson) instead of a closed
loop: an arrival with no free user is dropped and counted, and each request's latency is
measured from its intended start as well as from its actual send (no coordinated omission).

- ``schedule``: rate profiles and arrival times (pure);
- ``options``: the Locust options and their resolution;
- ``executor``: the pool, the schedule greenlet, the per-request recording;
- ``evidence``: the per-process JSON documents and their merge;
- ``locust_hooks``: the wiring through Locust's events.
"""
