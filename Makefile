# Two commands for a fresh machine with Python 3.11: `make demo` and `make test`.
# `make demo` streams 60 s of video from the shipped toy Endless World generator to out/demo.mp4 (+ .json);
# `.venv/bin/endless-world render --out-dir out` renders the ground truth it learned from.
# `make` installs torch==2.13.0 (the CPU build where the package index serves it); on a GPU machine run
#   make demo TORCH="torch --index-url https://download.pytorch.org/whl/cu128"
# (or install your own CUDA torch into .venv first: an installed torch is kept).
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install check lint results results-quality results-ablation

$(BIN)/python:
	@echo "==> creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip in $(VENV)"
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python setup.py settings.ini pyproject.toml
	@if $(BIN)/python -c "import torch" 2>/dev/null; then \
		echo "==> keeping the torch already in $(VENV): $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	else \
		echo "==> installing PyTorch ($(TORCH)): the largest download, a few minutes"; \
		$(BIN)/python -m pip install $(TORCH); \
	fi
	@echo "==> installing endless_world (editable) with its dependencies and dev tools: diffusers, transformers,"
	@echo "    nbdev, jupyterlab, ruff, playwright (no browser: the browser test uses the system chromium), ..."
	@# the filter hides setuptools' informational banner about editable installs of a flat layout (not a problem here)
	PYTHONWARNINGS="ignore::UserWarning:setuptools.command.editable_wheel" $(BIN)/python -m pip install -q -e ".[dev,test]"
	@echo "==> Jupyter in $(VENV) runs nbdev_clean when it saves a notebook, so opening and saving one leaves git diff empty"
	@echo '{"ContentsManager": {"pre_save_hook": "nbdev.clean.clean_jupyter"}}' > $(VENV)/etc/jupyter/jupyter_server_config.json
	@touch $(STAMP)
	@echo "==> installed: the command line is $(BIN)/endless-world (try $(BIN)/endless-world --help)"

install: $(STAMP)

# The main job: the shipped toy generator (detach + text-level 3D fusion) streams 60 s, chunk by chunk.
DEMO_PROMPT ?= a noon drive through a desert world of pillars on tiled ground
demo: $(STAMP)
	@echo "==> streaming 60 s with the shipped toy Endless World generator to out/demo.mp4: endless-world generate"
	$(BIN)/endless-world generate --prompt "$(DEMO_PROMPT)" --seconds 60 --out out/demo.mp4

# The README's result tables, from the shipped checkpoints: sample quality (13c), the ablation over 16 test prompts
# x 60 s (13d; its cells are cached in runs/ablation, so a rerun computes only what changed), then README.md.
# Each evaluation runs on one thread: `make -j2 results` runs the two side by side on two cores (about 45 minutes
# from scratch on 30 November: 43 minutes for the ablation, 10 for the quality table beside it).
results: results-quality results-ablation
	@echo "==> README.md from nbs/index.ipynb"
	cd nbs && ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace index.ipynb
	$(BIN)/python scripts/lab_normalize.py nbs/index.ipynb
	$(BIN)/nbdev_clean --fname nbs/index.ipynb
	$(BIN)/python scripts/make_readme.py

results-quality: $(STAMP)
	@echo "==> sample quality of the teacher and every shipped generator: endless-world eval quality"
	$(BIN)/endless-world eval quality --teacher-word-guidance 4 --out-dir benchmarks/results

results-ablation: $(STAMP)
	@echo "==> the ablation table: endless-world eval ablation"
	$(BIN)/endless-world eval ablation --out-dir runs/ablation --publish benchmarks/results/ablation

check: $(STAMP)
	@echo "==> checking that notebooks are clean and the package and README are what the notebooks export"
	$(BIN)/python scripts/check_sync.py

# E501 for the package, which ruff can't check there (see pyproject.toml): lines <= 120 but nbdev's `__all__ = ` line
define LONG_LINES
import pathlib, sys
long = [f'{path}:{n}: {len(line)} characters (> 120)'
        for path in sorted(pathlib.Path('endless_world').rglob('*.py')) if path.name != '_modidx.py'
        for n, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1)
        if len(line) > 120 and not line.startswith('__all__ = ')]
for item in long:
    print(item)
sys.exit(1 if long else 0)
endef
export LONG_LINES

lint: $(STAMP)
	@echo "==> ruff (pyflakes, pycodestyle, bugbear; settings in pyproject.toml), then line length in the package"
	$(BIN)/ruff check endless_world benchmarks scripts tests
	@$(BIN)/python -c "$$LONG_LINES"

# Two notebooks at a time, one thread each; idle OpenMP threads sleep rather than spin.
# nbdev_test skips cells flagged `#| slow` (long runs); run them with: $(BIN)/nbdev_test --flags slow
# pytest -rs names each skipped test and why: tests/test_browser.py is skipped where Debian's chromium is missing.
test: check lint
	@echo "==> notebook tests (nbdev_test; #| slow cells skipped), then pytest (with the widget demos in chromium)"
	OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE $(BIN)/nbdev_test --n_workers 2 --do_print
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -q -rs tests
