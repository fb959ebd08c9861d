# Two commands for a new user:  `make demo` (rank NB201 architectures on the built-in data)
# and `make test` (the test suite). Each creates .venv and installs zcnas into it first.
#
# torch: on a machine without an NVIDIA GPU the install is pinned by constraints-cpu.txt to the
# CPU build (no CUDA packages); with `nvidia-smi` present pip keeps its default CUDA build.
# Override with `make TORCH_CONSTRAINT= ...` (no pin) or point PIP_EXTRA_INDEX_URL at the
# PyTorch CPU index (https://download.pytorch.org/whl/cpu) on CPU machines that lack a local wheel.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HAS_GPU := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo yes)
TORCH_CONSTRAINT ?= $(if $(HAS_GPU),,-c constraints-cpu.txt)
ZCNAS_DATA ?= $(wildcard $(abspath ../shared/benchmarks))
export ZCNAS_DATA
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints-cpu.txt | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast setup lint clean

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_CONSTRAINT) -e ".[test,ray,optuna]"
	@rm -f $(VENV)/.installed-*; touch $@

setup: $(STAMP)

demo: $(STAMP)
	@mkdir -p runs
	$(BIN)/zcnas rank --space nb201 --sample 200 --proxies synflow,jacob_cov,naswot \
		--dataset digits --batch-size 64 --seed 0 --backend process \
		--store runs/demo.h5 --top 10

# the whole suite on 2 workers, with its 15 slowest tests listed at the end
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider --durations=15

# the quick subset for development: no slow tests, no benchmark-data tests, no tests that start
# worker processes, Ray or kill a run
test-fast: $(STAMP)
	ZCNAS_DATA= $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider -m "not slow and not benchdata and not processes"

lint: $(STAMP)
	$(BIN)/ruff check zcnas tests experiments

clean:
	rm -rf $(VENV) runs
