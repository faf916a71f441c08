# make run   : create .venv, install arzoo, run the offline end-to-end demo
# make test  : create .venv, install arzoo with test extras, run the test suite
# make test-extras : what `make test` leaves out to stay within 25 minutes (marker `extras`): minute-long
#                     learning tests, and every shell line of README.md run as written (ten minutes)
# make bench : naive vs cached sampling and gRPC latency, side by side (minutes)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: run test test-extras test-quick bench system-deps clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	@bash scripts/install_system_deps.sh

run: $(STAMP) system-deps
	$(BIN)/arzoo demo --output demo_output

test: $(STAMP) system-deps
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder -q -p no:cacheprovider --durations=15 -m "not extras"

test-extras: $(STAMP) system-deps
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q -p no:cacheprovider --durations=15 -m extras

test-quick: $(STAMP) system-deps
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder -q -p no:cacheprovider -m "not slow and not extras"

bench: $(STAMP)
	$(BIN)/python -m benchmarks.sampling
	$(BIN)/python -m benchmarks.serving_latency

clean:
	rm -rf $(VENV) demo_output runs *.egg-info
