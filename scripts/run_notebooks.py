"""Run notebooks top to bottom in a Jupyter kernel and store their outputs in place: the pictures and printed
numbers a reader sees come from the checkpoints and results that are in the repository now.

    .venv/bin/python scripts/run_notebooks.py nbs/09_teacher.ipynb nbs/10_ode_init.ipynb
    .venv/bin/python scripts/run_notebooks.py --all          # every notebook in nbs/ (about as long as `make test`)

Cells flagged `#| slow` (the long runs that `nbdev_test` skips too) are not run unless `--slow` is given: they keep
the outputs they have.
A cell that fails stops that notebook, which is left unchanged. Each written notebook is then normalised and cleaned
as the pre-save hook would (`scripts/lab_normalize.py`, `nbdev_clean`), so `git diff` shows only new outputs.
"""
import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
SKIPPED = re.compile(r"^#\|\s*(slow|notest)\b", re.M)       # settings.ini's tst_flags
NOISE = re.compile(r"^USDT:.*\n?", re.M)   # torch's profiler traces, printed in a kernel: not the notebook's output


def drop_noise(nb) -> None:
    "Remove the profiler's trace lines from every stream output, and the stream outputs left empty."
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
                output["text"] = NOISE.sub("", text)
        cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream" or o["text"]]


def run_notebook(path: Path, timeout: int = 1800, slow: bool = False) -> int:
    "Execute `path`'s cells (not the flagged ones unless `slow`) in a fresh kernel, in its folder; write it back."
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    ran = 0
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or (SKIPPED.search(cell.source) and not slow):
                continue
            client.execute_cell(cell, index)
            ran += 1
    drop_noise(nb)
    nbformat.write(nb, path)
    for cmd in ([sys.executable, REPO / "scripts/lab_normalize.py", path],
                [Path(sys.executable).with_name("nbdev_clean"), "--fname", path]):
        subprocess.run([str(c) for c in cmd], check=True, cwd=REPO)
    return ran


def main(paths: list, timeout: int, slow: bool) -> int:
    failed = []
    for path in paths:
        start = time.time()
        try:
            ran = run_notebook(path, timeout, slow)
            print(f"{path}: {ran} cells run in {time.time() - start:.0f} s, outputs stored", flush=True)
        except CellExecutionError as error:
            failed.append(path)
            print(f"{path}: a cell failed, notebook left unchanged:\n{str(error)[-2000:]}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path, help="the notebooks to run")
    ap.add_argument("--all", action="store_true", help="every notebook in nbs/, in order")
    ap.add_argument("--slow", action="store_true", help="run the #| slow cells too (minutes each)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds a cell may take (default: 1800)")
    args = ap.parse_args()
    paths = sorted((REPO / "nbs").glob("[0-9a-z]*.ipynb")) if args.all else args.notebooks
    if not paths:
        ap.error("name notebooks, or --all")
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        ap.error(f"no such notebook: {', '.join(map(str, missing))}")
    sys.exit(main([Path(p).resolve() for p in paths], args.timeout, args.slow))
