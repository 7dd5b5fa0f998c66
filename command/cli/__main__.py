"""`python -m command.cli …` runs the command line (as the installed `gridcmd` does)."""

import sys

from command.cli.registry import main

sys.exit(main())
