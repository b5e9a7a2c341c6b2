"""`endless-world train toy`'s DMD stages as two gloo processes under torchrun (`launch_stage`): a SIGTERM to the
pipeline's process reaches the workers, which save their training state and stop after their step; no worker is left
behind, and the same call resumes the stage from that state."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from endless_world.checkpoint import load_training_state
from endless_world.train.toy import DMD_VARIANTS, TINY_RECIPE, run_toy_pipeline

VARIANTS = {"detach": DMD_VARIANTS["detach"]}            # no 3D: the quickest DMD stage
# the pipeline's process: python PIPELINE runs_dir steps
PIPELINE = """
import sys
from endless_world.train.toy import DMD_VARIANTS, TINY_RECIPE, run_toy_pipeline
runs_dir, steps = sys.argv[1], int(sys.argv[2])
recipe = dict(TINY_RECIPE, dmd=dict(TINY_RECIPE["dmd"], steps=steps))
status = run_toy_pipeline(runs_dir, recipe, only=["dmd_detach"], minutes=None, threads=2, processes=2,
                          progress=False, variants={"detach": DMD_VARIANTS["detach"]})
print(status)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    "A runs folder with the tiny teacher and ODE init (seconds)."
    runs_dir = tmp_path_factory.mktemp("runs")
    status = run_toy_pipeline(runs_dir, TINY_RECIPE, only=["teacher", "ode_init"], minutes=None, threads=1,
                              progress=False, variants=VARIANTS)
    assert status == {"teacher": "done", "ode_init": "done"}
    return runs_dir


def workers_of(runs_dir: Path) -> list:
    "Process ids whose command line names `runs_dir` (the torchrun workers carry it in their JSON job)."
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if str(runs_dir).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:                            # gone meanwhile, or not ours to read
                pass
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_sigterm_reaches_the_workers_and_the_stage_resumes(runs, tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text(PIPELINE)
    folder = runs / "dmd_detach"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(script), str(runs), "100000"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        start = time.time()
        while not (folder / "state.pt").exists():       # tiny steps write a state every step
            assert proc.poll() is None, f"the pipeline ended early: {proc.communicate()[1][-3000:]}"
            assert time.time() - start < 240, "no training state written in time"
            time.sleep(0.5)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "'dmd_detach': 'stopped'" in out, out
    deadline = time.time() + 30                          # torchrun has waited for its workers: none is left
    while workers_of(runs) and time.time() < deadline:
        time.sleep(0.5)
    assert workers_of(runs) == []
    state = load_training_state(folder / "state.pt")
    assert 1 <= state["step"] < 100000
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == state["step"]
    assert not (folder / "generator.safetensors").exists()
    # the same pipeline call with the stage's steps one further resumes it from the saved state
    resumed = subprocess.run([sys.executable, str(script), str(runs), str(state["step"] + 1)], env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "'dmd_detach': 'done'" in resumed.stdout, resumed.stdout
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == list(range(1, state["step"] + 2))
    assert (folder / "generator.safetensors").is_file()
