# make validate : what users run in CI (render every spec, every static check)
# make test     : the whole pytest suite (starts the servers it needs on 127.0.0.1)
# make bench    : benchmarks, ratios against baselines measured in the same run -> build/bench.json
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.edakit-installed
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: setup validate test bench clean

setup: $(STAMP) $(CHECKOV_STAMP)

$(STAMP): pyproject.toml scripts/setup-system.sh scripts/build-pstest.sh scripts/install-azurite.sh
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	$(BIN)/edakit tf install
	bash scripts/build-pstest.sh
	bash scripts/install-azurite.sh
	touch $@

# checkov pins many libraries of its own: it lives in its own venv so the kit's pins stay ours.
$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check checkov==3.3.30
	touch $@

validate: setup
	$(BIN)/edakit validate

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m edakit.bench

clean:
	rm -rf build .pytest_cache .hypothesis
