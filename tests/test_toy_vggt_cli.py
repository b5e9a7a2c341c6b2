"""The toy VGGT's training and evaluation entry points (what `endless-world train vggt` / `eval vggt` call):
each writes only under its output folder, training resumes and ships only when asked, and the modules are not
commands of their own."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import endless_world.train.toy_vggt as train_module
from endless_world.checkpoint import DATA_DIR, load_training_state
from endless_world.train.toy_vggt import eval_toy_vggt, train_toy_vggt

ROOT = Path(__file__).resolve().parents[1]


def shipped_digest():
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(DATA_DIR.glob("toy_vggt.*"))}


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def test_eval_writes_json_only_under_out_dir(tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = eval_toy_vggt(out_dir=tmp_path / "out", n_batches=2)
    assert files_under(tmp_path) == ["out/toy_vggt_eval.json"]
    assert json.loads((tmp_path / "out/toy_vggt_eval.json").read_text()) == res
    assert res["split"] == "val" and res["checkpoint"] == "data/toy_vggt.safetensors"
    assert res["absrel"] < res["absrel_mean_depth"]          # depth beats the mean-depth baseline
    assert res["trans"] < res["trans_identity"]              # translation beats "never moved"
    eval_toy_vggt(n_batches=1)                                # no out_dir: nothing written
    assert files_under(tmp_path) == ["out/toy_vggt_eval.json"]


def test_train_resumes_and_ships_only_when_asked(tmp_path, monkeypatch):
    before = shipped_digest()
    fake_data = tmp_path / "data"
    monkeypatch.setattr(train_module, "DATA_DIR", fake_data)   # where --ship writes, for this test
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    kw = dict(batch_size=1, n_frames=2, warmup=1, progress=False)
    train_toy_vggt(run, steps=2, **kw)
    assert json.loads((run / "toy_vggt.json").read_text())["trained_steps"] == 2
    assert not fake_data.exists()                             # no ship, no data/
    train_toy_vggt(run, steps=4, ship=True, **kw)             # resumes from step 2, then ships
    assert load_training_state(run / "state.pt")["step"] == 4
    assert json.loads((fake_data / "toy_vggt.json").read_text())["trained_steps"] == 4
    assert files_under(fake_data) == ["toy_vggt.json", "toy_vggt.safetensors"]
    assert (fake_data / "toy_vggt.safetensors").read_bytes() == (run / "toy_vggt.safetensors").read_bytes()
    assert files_under(tmp_path / "run") == ["log.jsonl", "meta.json", "state.pt", "toy_vggt.json",
                                             "toy_vggt.safetensors"]
    assert shipped_digest() == before                         # the real data/ is untouched


@pytest.mark.parametrize("module", ["endless_world.toy_vggt", "endless_world.train.toy_vggt"])
def test_modules_are_not_commands(module):
    done = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode != 0
    assert "endless-world train vggt" in done.stderr
