"""Imports the modules whose CLI commands live outside cli.py, so they register."""

import command.demo.cli  # gridcmd demo, gridcmd simulate
import command.regions_cli  # noqa: F401  gridcmd import-regions
