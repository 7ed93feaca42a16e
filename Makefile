# make validate : what users run in CI (render every spec, every static check)
# make test     : the whole pytest suite (starts the servers it needs on 127.0.0.1)
# make bench    : benchmarks, ratios against baselines measured in the same run -> build/bench.json
# make demo     : every pattern's demo on the embedded broker (no servers), one verdict line per pattern
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.edakit-installed
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: setup validate test bench demo lock clean

setup: $(STAMP) $(CHECKOV_STAMP)

# Packages come only from the hash-pinned lock (scripts/lock.sh writes it from pyproject.toml); the kit itself is
# installed without dependencies or a build environment, so nothing unhashed is downloaded.
$(STAMP): pyproject.toml requirements/kit.txt scripts/setup-system.sh scripts/build-pstest.sh \
		scripts/pstest-debian-packages.txt scripts/install-azurite.sh scripts/node/package-lock.json
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes --no-deps -r requirements/kit.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	$(BIN)/edakit tf install
	bash scripts/build-pstest.sh
	bash scripts/install-azurite.sh
	touch $@

# checkov pins many libraries of its own: it lives in its own venv so the kit's pins stay ours.
$(CHECKOV_STAMP): requirements/checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check --require-hashes --no-deps -r requirements/checkov.txt
	touch $@

validate: setup
	$(BIN)/edakit validate

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m benchmarks $(if $(ONLY),--only $(ONLY))

demo: setup
	$(BIN)/python -m edakit.demos

# after changing a pin in pyproject.toml or requirements/checkov.in (needs PyPI)
lock:
	bash scripts/lock.sh

clean:
	rm -rf build .pytest_cache .hypothesis
