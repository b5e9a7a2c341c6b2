"""The toy VGGT's command line: eval writes the metrics JSON; train resumes from its checkpoint."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "endless_world.toy_vggt", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def test_eval_writes_json_with_baselines(tmp_path):
    out = tmp_path / "eval.json"
    done = run("eval", "--ship", str(ROOT / "data/toy_vggt.safetensors"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    res = json.loads(out.read_text())
    for k in ["absrel", "absrel_mean_depth", "rot_deg", "rot_deg_identity", "trans", "trans_identity"]:
        assert res[k] >= 0
    assert res["split"] == "val"
    assert res["absrel"] < res["absrel_mean_depth"]   # depth beats the mean-depth baseline


def test_train_resumes(tmp_path):
    d = tmp_path / "run"
    done = run("train", "--out-dir", str(d), "--steps", "2", "--batch-size", "1", "--ship", str(tmp_path / "v.safetensors"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "v.safetensors").exists() and json.loads((tmp_path / "v.json").read_text())["trained_steps"] == 2
    done = run("train", "--out-dir", str(d), "--steps", "4", "--batch-size", "1", "--ship", str(tmp_path / "v.safetensors"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "v.json").read_text())["trained_steps"] == 4
