"""``loadbench``: one command for the suite's entry points (the console script of pyproject).

``loadbench sweep ...`` is ``python -m scenarios.sweep ...``; ``loadbench report|compare|summary
...`` is ``python -m analysis report|compare|summary ...``. The dispatcher imports neither side
until a subcommand names it (scenarios and analysis never import each other).
"""
