"""How fast a toy DMD stage runs on this machine's cores: one process (1 or 2 threads) against two gloo processes.

Each layout trains a variant for a few generator updates (each with its 5 critic updates) from the shipped ODE init
in a temporary folder, through the command line (`endless-world train self-forcing`, under `torchrun` for two
processes), and reads the seconds per update from the run's log. The first update is left out (warm-up). The
projected stage is the recipe's 600 updates at the median. Writes benchmarks/results/dmd_stage_speed.json.
Run: `.venv/bin/python benchmarks/dmd_stage_speed.py [--variants detach detach_text3d] [--steps 6]`
Run it on an otherwise idle machine: the JSON records the load average before each layout.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from endless_world.checkpoint import write_json
from endless_world.train.toy import DMD_VARIANTS, TOY_RECIPE, toy_stages

LAYOUTS = {   # name: (processes, threads per process)
    "1 process, 1 thread": (1, 1),
    "1 process, 2 threads": (1, 2),
    "2 processes, 1 thread each": (2, 1),
}


def stage_command(variant: str, out_dir: Path, steps: int, processes: int, threads: int) -> list:
    "The command line that trains `variant` for `steps` updates from the shipped models (what `train toy` runs)."
    stage = next(s for s in toy_stages() if s.name == f"dmd_{variant}")
    tokens, args = stage.command().split()[1:], []           # drop "endless-world"; swap in the shipped inputs
    paths = {"--init": "data/toy_student_ode.safetensors", "--teacher": "data/toy_teacher.safetensors",
             "--out-dir": str(out_dir)}
    for i, token in enumerate(tokens):
        if i and tokens[i - 1] in paths:
            args.append(paths[tokens[i - 1]])
        else:
            args.append(token)
    cli = str(Path(sys.executable).with_name("endless-world"))    # this environment's command line
    command = [cli, *args, "--steps", str(steps), "--threads", str(threads), "--quiet"]
    if processes == 1:
        return command
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *command]


def measure(variant: str, steps: int, processes: int, threads: int) -> dict:
    "Seconds per update of `variant` in one layout (the median after the first update)."
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = stage_command(variant, out, steps, processes, threads)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if line.strip()]
    secs = [e["sec_per_step"] for e in log[1:]]
    median = statistics.median(secs)
    return dict(processes=processes, threads=threads, load_average_before=round(load, 2),
                sec_per_step=[round(s, 2) for s in secs], median_sec_per_step=round(median, 2),
                projected_stage_minutes=round(median * TOY_RECIPE["dmd"]["steps"] / 60, 1),
                losses=[round(e["loss"], 6) for e in log])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(DMD_VARIANTS), choices=list(DMD_VARIANTS))
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    parser.add_argument("--steps", type=int, default=6, help="updates per measurement (the first is left out)")
    parser.add_argument("--out", default="benchmarks/results/dmd_stage_speed.json")
    args = parser.parse_args()
    results = dict(cpu=platform.machine(), cpu_count=os.cpu_count(), torch=torch.__version__, steps=args.steps,
                   stage_steps=TOY_RECIPE["dmd"]["steps"], budget_minutes=60, variants={})
    if Path(args.out).is_file():                  # a rerun of some variants keeps the others
        results["variants"] = json.loads(Path(args.out).read_text()).get("variants", {})
    for variant in args.variants:
        rows = results["variants"].setdefault(variant, {})
        for name in args.layouts:
            rows[name] = measure(variant, args.steps, *LAYOUTS[name])
            print(f"{variant} | {name}: {rows[name]['median_sec_per_step']} s/update, "
                  f"600 updates = {rows[name]['projected_stage_minutes']} min", flush=True)
            write_json(args.out, results)


if __name__ == "__main__":
    main()
