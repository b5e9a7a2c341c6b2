"""Self-Forcing DMD training (`endless_world.train.self_forcing`) across processes: a SIGTERM or SIGKILL mid-run
leaves the last complete training state loadable (and resumable), and two gloo processes under torchrun (DDP, and
FSDP2 on the CPU) log the losses one process logs, within a relative 1e-5."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dataclasses import replace

import pytest
import torch

from endless_world.checkpoint import load_training_state, read_state_dict
from endless_world.train.dmd import DMD_TOY
from endless_world.train.self_forcing import stand_in_models, train_self_forcing

# a run on the tiny stand-ins: python WORKER out_dir strategy steps ckpt_every
WORKER = """
import sys
from dataclasses import replace
import torch
from endless_world.train.dmd import DMD_TOY
from endless_world.train.self_forcing import shutdown_distributed, stand_in_models, train_self_forcing
torch.set_num_threads(1)
out_dir, strategy, steps, ckpt_every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
train_self_forcing(out_dir, steps=steps, models=stand_in_models(), strategy=strategy, ckpt_every=ckpt_every,
                   batch_size=2, progress=False, dmd=replace(DMD_TOY, lr=1e-3, lr_critic=1e-3))
shutdown_distributed()   # under torchrun: the group ends before the process (a no-op in one process)
"""
ENV = dict(os.environ, OMP_NUM_THREADS="1")
FAST = replace(DMD_TOY, lr=1e-3, lr_critic=1e-3)   # large steps: processes that did not average would drift apart
TOLERANCE = 1e-5   # relative: two processes sum the same terms in another order (measured ~3e-7)


@pytest.fixture
def worker(tmp_path) -> Path:
    path = tmp_path / "worker.py"
    path.write_text(WORKER)
    return path


def read_log(out_dir: Path) -> list:
    return [json.loads(line) for line in (out_dir / "log.jsonl").read_text().splitlines()]


def wait_for_state(proc, state: Path, timeout: float = 90.0):
    "Wait until the run has written a state (and is still running)."
    start = time.time()
    while not state.exists():
        assert proc.poll() is None, f"the run ended early: {proc.communicate()[1][-2000:]}"
        assert time.time() - start < timeout, "no training state written in time"
        time.sleep(0.2)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_a_signal_mid_run_leaves_a_loadable_state(tmp_path, worker, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(worker), str(out), "none", "100000", "1"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_state(proc, out / "state.pt")
        time.sleep(0.5)                                   # somewhere inside a later step (or a write)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:                                                 # caught: a state at the end of the step, a clean exit
        assert proc.returncode == 0, err[-2000:]
    state = load_training_state(out / "state.pt")          # whole, whatever the moment of the signal
    assert 1 <= state["step"] < 100000
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["log.jsonl", "state.pt"]
    if sig != signal.SIGKILL:                             # the stop wrote the state of the last logged step
        assert read_log(out)[-1]["step"] == state["step"]
    # and it resumes: one more step, with the log cut back to the state's step
    _, step = train_self_forcing(out, steps=state["step"] + 1, models=stand_in_models(), ckpt_every=1,
                                 batch_size=2, progress=False, strategy="none", dmd=FAST)
    assert step == state["step"] + 1
    assert [e["step"] for e in read_log(out)] == list(range(1, step + 1))


def run_torchrun(worker: Path, out: Path, strategy: str, steps: int):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(worker),
           str(out), strategy, str(steps), str(steps)]
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one") / "run"
    torch.set_num_threads(1)
    train_self_forcing(out, steps=3, models=stand_in_models(), batch_size=2, progress=False, strategy="none",
                       dmd=FAST)
    return out


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_gloo_processes_log_the_losses_of_one(tmp_path, worker, one_process, strategy):
    out = tmp_path / "run"
    run_torchrun(worker, out, strategy, 3)
    two = read_log(out)
    assert [e["step"] for e in two] == [1, 2, 3]
    for a, b in zip(read_log(one_process), two, strict=True):
        for key in ("loss", "critic_loss", "dmd", "dmd_new", "grad_norm"):
            assert b[key] == pytest.approx(a[key], rel=TOLERANCE), (key, a[key], b[key])
        assert (a["n_cond"], a["exit_step"]) == (b["n_cond"], b["exit_step"])
    # the written students agree too (first process writes, gathered whole under FSDP2)
    one, two = (read_state_dict(d / "generator.safetensors") for d in (one_process, out))
    assert one.keys() == two.keys()
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-4, atol=1e-6)
