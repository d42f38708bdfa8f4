"""Operations on a deployed loadbench stack (``python -m deploy.aws_ops COMMAND``).

The Makefile's AWS targets call these: ``preflight`` before a deploy, ``images`` (build and push,
or register a stub manifest where no registry exists), ``stop-sweeps`` before a destroy,
``pause``/``resume``, ``status`` with list prices, and ``generators`` (the Locust master and
workers of one sweep). Every command reads the deployment from ``terraform output -json``, so the
region is the deployment's, not whatever terraform.tfvars says now.
"""
