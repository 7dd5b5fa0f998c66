"""cli: the `gridcmd` command line. It owns one registry (registry.py) of commands declared as data (spec.py), each
with its arguments and handler together, grouped by subject (server, regions, accounts, demo, live, scheduler). It
may import any command/ package, geo/ and dispatch/; nothing imports it (the entry point is
command.cli.registry:main)."""
