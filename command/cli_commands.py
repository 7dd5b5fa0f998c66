"""Imports the modules whose CLI commands live outside cli.py, so they register."""

import command.demo.cli  # gridcmd demo, gridcmd simulate
import command.dispatch_cli  # gridcmd rebuild-live, gridcmd dispatcher
import command.regions_cli  # gridcmd import-regions
import command.scheduler_cli  # noqa: F401  gridcmd scheduler
