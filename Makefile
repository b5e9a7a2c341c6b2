# Two commands for a fresh machine with Python 3.11: `make demo` and `make test`.
# CPU machines get the CPU build of torch pinned below; on a GPU machine run
#   make demo TORCH="torch --index-url https://download.pytorch.org/whl/cu128"
# (or install your own CUDA torch into .venv first: an installed torch is kept).
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install check pipeline clean-out

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python setup.py settings.ini
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m endless_world.demo --out out

check: $(STAMP)
	$(BIN)/python scripts/check_sync.py

# Two notebooks at a time, one thread each; idle OpenMP threads sleep rather than spin.
test: check
	OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE $(BIN)/nbdev_test --n_workers 2 --do_print
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -q tests
