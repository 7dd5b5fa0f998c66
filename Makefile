# The two commands of the README:
#   make demo   set everything up, load the demo city, serve it with the simulator running
#   make test   set everything up and run the test suite
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint bench provision provision-test

provision:
	scripts/provision.sh

provision-test:
	scripts/provision.sh --test

demo: provision
	.venv/bin/gridcmd demo --serve --host $(HOST) --port $(PORT)

test: provision-test
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -q $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check .

bench: provision
	scripts/bench-tools.sh
	.venv/bin/python -m bench $(BENCH_ARGS)
