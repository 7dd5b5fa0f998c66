"""Imports the modules whose CLI commands live outside cli.py, so they register."""
