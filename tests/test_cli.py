"""The `endless-world` command: every (sub)command's --help lists every option with a help text, and the
training/evaluation commands write only into their --out-dir (never into data/ without --ship), from any folder."""
import hashlib
import json
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from endless_world.cli import REPO_ROOT, RUNS_DIR, build_parser, command_parsers

SCRIPT = Path(sys.executable).parent / "endless-world"   # the console script `pip install -e .` puts beside python
COMMANDS = command_parsers(build_parser())              # {(): parser, ('train',): ..., ('train', 'vae'): ..., ...}


def run(args, cwd=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "endless_world.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def squeeze(text: str) -> str:
    "`text` without whitespace: argparse wraps help texts at any space."
    return "".join(text.split())


def test_the_command_tree():
    walked = {" ".join(path) for path in COMMANDS}
    assert {"render", "generate", "train vae", "train vggt", "train teacher", "train ode-init", "train self-forcing",
            "eval vggt"} <= walked, walked


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p) or "endless-world")
def test_help_lists_every_option_with_its_help(path):
    assert SCRIPT.exists(), f"{SCRIPT} missing: install the package (make install, or pip install -e .)"
    done = subprocess.run([str(SCRIPT), *path, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {' '.join(('endless-world',) + path)}"), done.stdout[:200]
    shown = squeeze(done.stdout)
    for action in COMMANDS[path]._actions:
        assert action.help and action.help.strip(), f"{' '.join(path)}: {action.option_strings or action.dest}"
        assert squeeze(action.help) in shown, action.help
        for option in action.option_strings:
            assert option in done.stdout
            assert option == "-h" or (option.startswith("--") and "_" not in option), option  # one style: --out-dir


def test_cli_defaults_are_the_functions_defaults():
    from endless_world.train.toy_vggt import eval_toy_vggt, train_toy_vggt
    train = COMMANDS[("train", "vggt")].parse_args([])
    evaluate = COMMANDS[("eval", "vggt")].parse_args([])
    defaults = {**inspect.signature(train_toy_vggt).parameters, **{
        "n_batches": inspect.signature(eval_toy_vggt).parameters["n_batches"]}}
    assert train.steps == defaults["steps"].default and train.batch_size == defaults["batch_size"].default
    assert evaluate.batches == defaults["n_batches"].default
    assert train.out_dir == RUNS_DIR / "toy_vggt" and evaluate.out_dir == RUNS_DIR / "toy_vggt_eval"


LIBRARY_CHECK = """
import pkgutil, runpy, warnings
import endless_world
warnings.simplefilter("ignore", RuntimeWarning)   # runpy warns that the module was imported before: expected here
silent = []
for info in pkgutil.walk_packages(endless_world.__path__, "endless_world."):
    if info.ispkg or info.name in ("endless_world.cli", "endless_world._modidx"):
        continue
    try:
        runpy.run_module(info.name, run_name="__main__", alter_sys=True)   # what `python -m <module>` does
        silent.append(info.name)
    except SystemExit as stop:
        if not (isinstance(stop.code, str) and "endless-world" in stop.code):
            silent.append(f"{info.name}: exit {stop.code!r}")
print(silent)
"""


def test_library_modules_point_to_the_command():
    "`python -m endless_world.<module>` never exits 0 in silence: every module but the CLI points to `endless-world`."
    done = subprocess.run([sys.executable, "-c", LIBRARY_CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_python_m_cli_is_the_command():
    done = run(["--help"])
    assert done.returncode == 0 and done.stdout.startswith("usage: endless-world")


def tree(folder: Path) -> dict:
    "Every file under `folder` with a hash of its bytes ({} when there is no such folder)."
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()} if folder.exists() else {}


def test_train_and_eval_write_only_into_out_dir(tmp_path):
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    watched = [REPO_ROOT / "data", REPO_ROOT / "benchmarks" / "results"]
    before = [tree(folder) for folder in watched]
    top_before = sorted(p.name for p in REPO_ROOT.iterdir())
    # runs/ by name only: a training run of one's own may be writing into its folder there meanwhile
    runs_before = sorted(p.name for p in RUNS_DIR.iterdir()) if RUNS_DIR.exists() else []

    done = run(["train", "vae", "--recipe", "tiny", "--out-dir", str(tmp_path / "vae"), "--quiet"], cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert sorted(tree(tmp_path / "vae")) == ["tiny_vae.json", "tiny_vae.safetensors", "tiny_vae/ckpt.pt",
                                              "tiny_vae/log.jsonl", "tiny_vae/pool.pt", "tiny_vae_s5/ckpt.pt",
                                              "tiny_vae_s5/log.jsonl", "tiny_vae_s5/pool.pt"]
    done = run(["train", "vae", "--recipe", "tiny", "--ship", "--out-dir", str(tmp_path / "vae")], cwd=cwd)
    assert done.returncode == 2 and "--ship" in done.stderr          # a VAE ships with its models (train toy)
    done = run(["eval", "vggt", "--batches", "1", "--out-dir", str(tmp_path / "eval")], cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert list(tree(tmp_path / "eval")) == ["toy_vggt_eval.json"]

    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "eval", "vae"]
    assert list(cwd.iterdir()) == []                                  # nothing in the working directory
    assert [tree(folder) for folder in watched] == before             # data/ byte-identical; results too
    assert sorted(p.name for p in REPO_ROOT.iterdir()) == top_before
    assert (sorted(p.name for p in RUNS_DIR.iterdir()) if RUNS_DIR.exists() else []) == runs_before


def test_a_damaged_checkpoint_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint" * 8)
    done = run(["eval", "vggt", "--checkpoint", str(bad), "--batches", "1", "--out-dir", str(tmp_path / "eval")])
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(tmp_path / "bad") in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


BAD_REQUESTS = {"empty prompt": (["--prompt", "  "], "prompt: empty"),
                "unknown word": (["--prompt", "a sunset drive through a purple world"], "unknown word 'purple'"),
                "seconds < 0": (["--prompt", "a sunset drive", "--seconds", "-1"], "seconds: must be a number >= 0")}


@pytest.mark.parametrize("what", sorted(BAD_REQUESTS))
def test_generate_refuses_a_bad_request_in_one_line(what, tmp_path):
    args, message = BAD_REQUESTS[what]
    out = tmp_path / "video.mp4"
    done = subprocess.run([str(SCRIPT), "generate", *args, "--out", str(out), "--quiet"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("endless-world generate: error: ") and message in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == []                   # no video, nothing in the cwd


def test_generate_names_the_shipped_default_and_a_missing_checkpoint(tmp_path):
    "--help names the shipped default; a missing checkpoint is one line naming it, exit 1 (the default's absence, with"
    " the command that makes it, is tested in tests/test_generate.py with a data/ that lacks it)."
    from endless_world.generate import GENERATOR_FILE
    assert GENERATOR_FILE in squeeze(COMMANDS[("generate",)].format_help())   # --help names the default file
    missing = tmp_path / "nope.safetensors"
    done = subprocess.run([str(SCRIPT), "generate", "--prompt", "a sunset drive", "--out", str(tmp_path / "v.mp4"),
                           "--checkpoint", str(missing), "--quiet"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and str(missing) in line, line


def test_eval_quality_with_another_vae_has_no_shipped_rows(tmp_path):
    "The shipped teacher and generators read the shipped VAE's latents: with --vae only the given rows are measured."
    from endless_world.checkpoint import copy_checkpoint, shipped_path
    vae = copy_checkpoint(shipped_path("toy_vae.safetensors"), tmp_path / "other_vae")
    done = run(["eval", "quality", "--vae", str(vae), "--prompts", "1", "--reference-clips", "1", "--quiet",
                "--out-dir", str(tmp_path / "quality")])
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "quality" / "quality.json").read_text())
    assert list(report["rows"]) == ["ground truth (other seeds)", "ground truth through the toy VAE",
                                    "trivial: the style's mean frame"], list(report["rows"])
    assert report["settings"]["vae"] == str(vae)
