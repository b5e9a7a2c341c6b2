"""CI gate: notebooks are clean and store their outputs as JupyterLab holds them (so opening and saving one in Lab
changes nothing), the package is what the notebooks export, README.md is what nbs/index.ipynb generates.
Works on a copy, so it never rewrites your files; prints a diff."""
import difflib
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COPY = ["nbs", "endless_world", "scripts", "settings.ini", "README.md", "setup.py"]


def tree_files(top: Path):
    return {p.relative_to(top) for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and ".ipynb_checkpoints" not in p.parts}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in COPY:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, tmp / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            elif src.exists():
                shutil.copy2(src, tmp / name)
        steps = [[sys.executable, "scripts/lab_normalize.py"], [str(BIN / "nbdev_clean")], [str(BIN / "nbdev_export")],
                 [sys.executable, "scripts/make_readme.py"]]
        for cmd in steps:
            subprocess.run(cmd, cwd=tmp, check=True)
        problems = []
        for sub in ["nbs", "endless_world"]:
            ours, theirs = tree_files(ROOT / sub), tree_files(tmp / sub)
            for rel in sorted(ours ^ theirs):
                problems.append(f"{sub}/{rel}: present on one side only (run nbdev_export)")
            for rel in sorted(ours & theirs):
                if not filecmp.cmp(ROOT / sub / rel, tmp / sub / rel, shallow=False):
                    problems.append(f"{sub}/{rel}: differs from what nbdev_clean/nbdev_export produce")
                    a = (ROOT / sub / rel).read_text(errors="replace").splitlines()
                    b = (tmp / sub / rel).read_text(errors="replace").splitlines()
                    problems.extend(list(difflib.unified_diff(a, b, lineterm="", n=1))[:20])
        readme_ok = (ROOT / "README.md").exists() and filecmp.cmp(ROOT / "README.md", tmp / "README.md", shallow=False)
        if not readme_ok:
            problems.append("README.md is out of date: run `python scripts/make_readme.py`")
    if problems:
        print("\n".join(problems))
        print("\nOut of sync: run `python scripts/lab_normalize.py && nbdev_clean && nbdev_export && "
              "python scripts/make_readme.py` and commit.")
        return 1
    print("notebooks clean, package in sync with notebooks, README in sync")
    return 0


if __name__ == "__main__":
    sys.exit(main())
