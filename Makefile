# The two commands of the README:
#   make demo   set everything up, load the demo city, serve it with the simulator running
#   make test   set everything up and run the test suite
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
# One pytest process by default. TEST_WORKERS=2 runs two pytest-xdist workers (whole files each, longest first):
# about as long on 2 cores (23-25 min against ~27) and the latency-bound tests flake under the doubled load.
TEST_WORKERS ?= 1

.PHONY: demo test lint bench bench-osmand soak provision provision-test screenshots

provision:
	scripts/provision.sh

provision-test:
	scripts/provision.sh --test

demo: provision
	.venv/bin/gridcmd demo --serve --host $(HOST) --port $(PORT)

test: provision-test
	.venv/bin/ruff check .
	.venv/bin/mypy geo dispatch command pgnative
	.venv/bin/python -m pytest -q $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder) --durations=30 $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy geo dispatch command pgnative
	.venv/bin/lint-imports

bench: provision
	scripts/bench-tools.sh
	.venv/bin/python -m bench $(BENCH_ARGS)
	.venv/bin/python -m bench.phase_reports $(HISTORY_ARGS)

# GPS app reports per second through the OsmAnd path (docs/interop.md); uses DATABASE_URL / REDIS_URL.
bench-osmand: provision
	scripts/bench-tools.sh
	.venv/bin/python -m bench.osmand --driver wrk $(BENCH_ARGS)

# Opt-in, not part of `make bench`: an hour of 5 alerts/s scraped by a real Prometheus with the committed rules
# (docs/operations.md, "Soak"). Uses DATABASE_URL's server (database <name>_soak, re-created) and REDIS_URL's db.
SOAK_ARGS ?= --minutes 60
soak: provision-test
	.venv/bin/python -m bench.soak $(SOAK_ARGS)

# Refresh the committed screenshots in docs/screenshots (a plain test run writes them to var/screenshots).
screenshots: provision-test
	GRIDCMD_REFRESH_SCREENSHOTS=1 .venv/bin/python -m pytest -q -k "browser or screenshot" $(PYTEST_ARGS)
