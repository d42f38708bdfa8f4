"""The sweep runner behind ``python -m scenarios.sweep``: everything outside the Locust process.

The locustfile and what runs inside Locust (user classes, tasks, mixes, pacing, seeding, the
HDR recorder, the event-loop probe, the requests-in-flight count) stay in ``scenarios/``; this
package starts and watches Locust, the local service, its database, cache, CPU envelope and
delay proxy, samples CPU, judges every run (``_verdict``) and writes ``results/`` in the format
of results/README.md.

- configuration and the matrix: ``_matrix``; one sweep: ``_runner``; one local point:
  ``_local_run``; a point on a remote master: ``_remote_run``;
- the target: ``_local_target``, ``_spares``, ``_backends``, ``_db_servers``, ``_cpu_limit``,
  ``_auto_envelope``, ``_delay_proxy``, ``_delay_run``;
- Locust processes: ``_locust_launcher`` (a fork server), ``_locust_process``,
  ``_locust_output``, ``_calibration``;
- evidence and verdicts: ``_cpu_sampler``, ``_evidence``, ``_health``, ``_server_view``,
  ``_accept_queue``, ``_verdict``, ``_slo``, ``_run_record``;
- results: ``_results_io``, ``_remote_sweep``, ``_progress``.
"""
