"""Experiment: does a ten times higher DMD learning rate move the toy student further than the shipped recipe?

The shipped DMD variants ended within a few hundredths of FD of their common ODE initialisation (13c_quality) after
600 steps at DMD_TOY's learning rates (generator 1e-5, critic 2e-6). This trains the Self-Forcing baseline variant
(no detach, no fusion: the cheapest) from the same shipped ODE init and teacher with the same steps, batch and seed,
only the learning rates times `--lr-factor` (default 10), in runs/exp_dmd_lr<factor>x (resumable: rerun after a stop).
Then beside the shipped `self_forcing` generator it measures
  * how far each moved: ||theta - theta_ode|| / ||theta_ode|| over the DiT's weights,
  * 5-second samples on 16 test prompts (`eval_quality`: FD in the attribute classifier's features, accuracy),
  * 60-s streams with the sink on the same 16 prompts (the ablation's "+ attention sink" cells), paired over prompts
    with the shipped row of benchmarks/results/ablation.json,
and writes benchmarks/results/dmd_lr.json.
Run: `.venv/bin/python scripts/dmd_lr_experiment.py [--lr-factor 10] [--threads 1]` (about 30 min on one core).
"""
import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from endless_world.ablation import SINK, AblationRow, Judges, paired_difference, run_ablation
from endless_world.checkpoint import DATA_DIR, read_state_dict, write_json
from endless_world.quality import eval_quality
from endless_world.train.dmd import DMD_TOY
from endless_world.train.latent_data import world_prompts
from endless_world.train.self_forcing import train_self_forcing
from endless_world.train.toy import TOY_RECIPE

REPO = Path(__file__).resolve().parents[1]


def relative_change(checkpoint, reference) -> float:
    "||theta - theta_ref|| / ||theta_ref|| over every tensor the two checkpoints share."
    moved, start = read_state_dict(checkpoint), read_state_dict(reference)
    num = sum(float((moved[k].float() - start[k].float()).pow(2).sum()) for k in start if k in moved)
    den = sum(float(start[k].float().pow(2).sum()) for k in start if k in moved)
    return (num / den) ** 0.5


def main(lr_factor=10.0, threads=1, seconds=60, n_prompts=16):
    torch.set_num_threads(threads)
    init, teacher = DATA_DIR / "toy_student_ode.safetensors", DATA_DIR / "toy_teacher.safetensors"
    shipped = DATA_DIR / "toy_generator_self_forcing.safetensors"
    run = REPO / "runs" / f"exp_dmd_lr{lr_factor:g}x"
    config = replace(DMD_TOY, lr=DMD_TOY.lr * lr_factor, lr_critic=DMD_TOY.lr_critic * lr_factor)
    # 1. train: the shipped baseline's recipe, the learning rates scaled
    train_self_forcing(run, init, teacher, steps=TOY_RECIPE["dmd"]["steps"], detach=False, dmd=config,
                       threads=threads)
    ours = run / "generator.safetensors"
    names = {"shipped (lr 1e-5)": shipped, f"lr x{lr_factor:g}": ours}
    # 2. how far each moved from the ODE init
    moved = {name: relative_change(path, init) for name, path in names.items()}
    # 3. 5-second samples against ground truth
    with tempfile.TemporaryDirectory() as folder:
        quality = eval_quality(folder, teacher=None, generators=names, n_prompts=n_prompts, threads=threads,
                               progress=False)
    samples = {name: dict(fd=quality["rows"][name]["fd"]["classifier"]["pooled"],
                          attribute_accuracy=quality["rows"][name]["attribute_accuracy"]) for name in names}
    # 4. 60-s streams with the sink, paired with the shipped row of the ablation
    prompts = world_prompts("test", n_prompts)
    row = AblationRow(f"+ attention sink, lr x{lr_factor:g}", ours, "self_forcing", sink=1)
    streams = run_ablation([row], prompts, seconds, run / "ablation", judges=Judges.load(), table_seconds=(seconds,),
                           progress=False)["rows"][row.name]["at"][f"{seconds:g}"]
    published = json.loads((REPO / "benchmarks/results/ablation.json").read_text())
    assert published["settings"]["prompts"][:n_prompts] == prompts, "the ablation's prompts differ"
    shipped_row = published["rows"][SINK]["at"][f"{seconds:g}"]
    long_run = {metric: dict(ours=streams[metric]["mean"], shipped=shipped_row[metric]["mean"],
                             change=paired_difference(streams[metric]["per_prompt"],
                                           shipped_row[metric]["per_prompt"][:n_prompts]))
                for metric in ("summary", "fd", "warp_residual", "semantic", "colour_drift")}
    result = dict(lr_factor=lr_factor, dmd=config.to_dict(), steps=TOY_RECIPE["dmd"]["steps"], threads=threads,
                  relative_change_from_ode_init=moved, samples_5s=samples,
                  streams_with_sink={f"{seconds:g}s": long_run}, prompts=n_prompts,
                  note="the Self-Forcing baseline variant (no detach, no fusion), from data/toy_student_ode with "
                       "data/toy_teacher; 'shipped' is data/toy_generator_self_forcing (the same recipe at lr 1e-5)")
    write_json(REPO / "benchmarks/results/dmd_lr.json", result)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lr-factor", type=float, default=10.0, help="times DMD_TOY's learning rates (default: 10)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    a = ap.parse_args()
    main(a.lr_factor, a.threads)
