"""``python -m loadbench_cli``: the same as the ``loadbench`` console script."""

import sys

from loadbench_cli.main import main

sys.exit(main())
