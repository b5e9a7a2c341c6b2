"""Does the 3D fusion change the stream when it trains at a rate of its own?

The shipped 3D students stream almost exactly as + detach (`13d_ablation`): their fusion modules start at zero (the
zero conv) and, trained at the generator's rate (1e-4) for 600 DMD steps, still add only 0.15 % to the text
embeddings. This script trains the fusion variants again from the same ODE init, with the same steps and seed, but
with the fusion module at its own learning rate (`DMDConfig.lr_fusion`, `endless-world train self-forcing
--lr-fusion`), then streams them over the ablation's 16 test prompts x 60 s and compares them, paired over prompts,
with the published rows of `benchmarks/results/ablation.json` (the shipped students, the same prompts, seeds and
judges). One command, resumable at every stage (training states, cached ablation cells):

    python scripts/fusion_rate_experiment.py --lr-fusion 1e-3

-> benchmarks/results/fusion_rate.json (and the run folders under runs/exp_fusion_lr/).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import torch

from endless_world.ablation import (DETACH, ENDLESS_WORLD, L3D, LATENT3D, ablation_rows, ablation_table,
                                    fusion_strength, paired_change, run_ablation, select_rows)
from endless_world.checkpoint import DATA_DIR, write_json
from endless_world.fusion import load_fusion
from endless_world.generate import encode_prompt
from endless_world.text import load_toy_text_encoder
from endless_world.toy_vggt import load_toy_vggt
from endless_world.train.latent_data import world_prompts
from endless_world.world import SPLITS, World

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from dmd_stage_speed import stage_command  # noqa: E402  (the toy stage's own command line, with the shipped inputs)


class Variant(NamedTuple):
    name: str        # the DMD variant (data/toy_generator_<name>)
    row_key: str     # its `--rows` key in `endless-world eval ablation`
    row: str         # its row in the published table
    short: str       # its name here


VARIANTS = {  # --variants: what each retrains
    "text": Variant("detach_text3d", "endless_world", ENDLESS_WORLD, "Endless World"),
    "latent": Variant("detach_latent3d", "latent3d", LATENT3D, "latent-level 3D"),
    "l3d": Variant("detach_text3d_l3d", "l3d", L3D, "+ L3D")}
METRICS = ("summary", "fd", "warp_residual", "semantic", "colour_drift", "flicker", "smoothness_error")


def train(variant: Variant, args) -> Path:
    "Train (or resume, or only re-write) one variant as `train toy` trains it, but with the fusion at `args.lr_fusion`."
    out = (args.out_dir / variant.name).resolve()            # the command runs in the repository
    command = [*stage_command(variant.name, out, args.steps, args.processes, threads=1),
               "--lr-fusion", f"{args.lr_fusion:g}"]
    print("==>", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)             # the stage command reads data/ from the repository
    return out


def training_summary(run: Path, curve_window: int = 50) -> dict:
    "The run's losses at its start and end (means over its first and last `window` steps: 100, or a third of a short "
    "run), its length, and its curve: means (and the gradient norm's maximum) over every `curve_window` steps."
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    log = [entry for entry in log if "critic_loss" in entry]               # the step lines
    window = min(100, max(1, len(log) // 3))
    parts = [log[i:i + curve_window] for i in range(0, len(log), curve_window)]
    curve = dict(window=curve_window, last_step=[part[-1]["step"] for part in parts],
                 **{key: [statistics.fmean(e[key] for e in part) for part in parts] for key in ("loss", "critic_loss")},
                 grad_norm_max=[max(e["grad_norm"] for e in part) for part in parts])
    minutes = sum(e["sec_per_step"] for e in log) / 60                    # summed over resumed sessions
    return dict(steps=len(log), minutes=round(minutes, 1), window=window,
                **{f"{key}_{end}": statistics.fmean(e[key] for e in part) for key in ("loss", "critic_loss")
                   for end, part in (("first", log[:window]), ("last", log[-window:]))}, curve=curve)


def strengths(fusion_files: dict, n_worlds: int) -> dict:
    "`fusion_strength` of each fusion file, averaged over 12 ground-truth frames of `n_worlds` test worlds."
    text, (vggt, _) = load_toy_text_encoder(), load_toy_vggt()
    cases = []
    for seed in SPLITS["test"][:n_worlds]:
        world = World(seed)
        cases.append((world.clip(12, 16, 30.0).rgb[None], encode_prompt(text, world.prompt)))   # [1, 12, 3, H, W]
    out = {}
    for name, path in fusion_files.items():
        fusion = load_fusion(path)[0]
        each = [fusion_strength(fusion, frames, e_text, vggt) for frames, e_text in cases]
        out[name] = {key: statistics.fmean(s[key] for s in each) for key in each[0]}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lr-fusion", type=float, default=1e-3, help="the fusion module's learning rate")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["text", "latent"],
                        help="which fusion variants to retrain: Endless World, latent-level 3D, + L3D")
    parser.add_argument("--steps", type=int, default=600, help="generator updates (the shipped variants': 600)")
    parser.add_argument("--processes", type=int, default=2, help="torchrun processes (one thread each)")
    parser.add_argument("--out-dir", type=Path, default=REPO / "runs/exp_fusion_lr",
                        help="the training runs (one folder per variant) and the ablation cells")
    parser.add_argument("--published", type=Path, default=REPO / "benchmarks/results/ablation.json",
                        help="the shipped students' ablation (the rows compared against)")
    parser.add_argument("--shipped-runs", type=Path, default=REPO / "runs/toy_v2",
                        help="the `train toy` folder that made the shipped students: their training curves are "
                             "recorded beside these when its logs are there (default: runs/toy_v2)")
    parser.add_argument("--strength-worlds", type=int, default=4, help="test worlds for the fusion strength")
    parser.add_argument("--no-eval", action="store_true",
                        help="only train and measure the fusion strength (e.g. a short probe of a rate)")
    parser.add_argument("--result", type=Path, default=REPO / "benchmarks/results/fusion_rate.json",
                        help="the JSON written")
    args = parser.parse_args()
    t0 = time.time()
    variants = [VARIANTS[key] for key in args.variants]
    runs = {v: train(v, args) for v in variants}
    torch.set_num_threads(1)                         # as the published ablation's cells

    # 1. how far each fusion moved: the shipped students' and these
    files = {f"shipped {v.name}": DATA_DIR / f"toy_generator_{v.name}_fusion.safetensors" for v in variants}
    files.update({f"{v.name} at lr_fusion {args.lr_fusion:g}": run / "generator_fusion.safetensors"
                  for v, run in runs.items()})
    strength = strengths(files, args.strength_worlds)
    training = {v.name: training_summary(run) for v, run in runs.items()}
    shipped_logs = {v.name: args.shipped_runs / f"dmd_{v.name}" for v in variants}   # `train toy`'s stage folders
    training.update({f"shipped {name}": training_summary(run) for name, run in shipped_logs.items()
                     if (run / "log.jsonl").is_file()})
    if args.no_eval:
        record = dict(lr_fusion=args.lr_fusion, steps=args.steps, training=training, fusion_strength=strength,
                      strength_worlds=args.strength_worlds, minutes_this_call=round((time.time() - t0) / 60, 1))
        write_json(args.result, record)
        print(json.dumps(record, indent=1))
        return

    # 2. the ablation cells of the new students, with the published settings; the shipped + detach row's first
    # cell computed again here, to show that these cells and the published ones are comparable
    published = json.loads(args.published.read_text())
    settings = published["settings"]
    prompts = world_prompts("test", len(settings["prompts"]))
    if prompts != settings["prompts"]:
        raise SystemExit(f"{args.published}: made with other prompts than the test split's first {len(prompts)}")
    checkpoints = {v.name: run / "generator.safetensors" for v, run in runs.items()}
    rows = select_rows(ablation_rows(checkpoints=checkpoints), [v.row_key for v in variants])
    common = dict(bin_seconds=settings["bin_seconds"], n_reference_clips=settings["n_reference_clips"],
                  table_seconds=tuple(settings["table_seconds"]), fps=settings["fps"])
    results = run_ablation(rows, prompts, settings["seconds"], args.out_dir / "ablation", **common)
    check = run_ablation(select_rows(ablation_rows(), ["detach"]), prompts[:1], settings["seconds"],
                         args.out_dir / "ablation_check", **common)
    seconds = f"{max(settings['table_seconds']):g}"
    again = check["rows"][DETACH]["at"][seconds]["summary"]["per_prompt"][0]
    shown = published["rows"][DETACH]["at"][seconds]["summary"]["per_prompt"][0]

    # 3. paired over prompts: each new row against + detach and against the shipped row it retrains, and the new
    # rows against each other where the published table compares them
    merged = dict(rows={f"shipped {name}": row for name, row in published["rows"].items()})
    new_name = {v.row: f"{v.short}, lr_fusion {args.lr_fusion:g}" for v in variants}
    merged["rows"].update({new_name[name]: row for name, row in results["rows"].items()})
    compared = [(new_name[v.row], f"shipped {parent}") for v in variants for parent in (DETACH, v.row)]
    compared += [(new_name[a], new_name[b]) for a, b in ((ENDLESS_WORLD, LATENT3D), (L3D, ENDLESS_WORLD))
                 if a in new_name and b in new_name]
    pairs = {f"{row} vs {parent}": {f"{at:g}": {m: paired_change(merged, row, parent, m, at) for m in METRICS}
                                    for at in settings["table_seconds"]}
             for row, parent in compared}
    # the FPS column left out: these cells ran beside training jobs (the speeds are in ablation.json's timing pass)
    shown_rows = [f"shipped {DETACH}", *[f"shipped {v.row}" for v in variants], *[new_name[v.row] for v in variants]]
    rows_shown = {name: dict(merged["rows"][name], at={at: {key: value for key, value in values.items() if key != "fps"}
                                                   for at, values in merged["rows"][name]["at"].items()})
                  for name in shown_rows}
    record = dict(
        note=("each variant trained from data/toy_student_ode with data/toy_teacher, the shipped recipe's DMD rates "
              "(generator 1e-4, critic 2e-5), 600 steps, seed 0, 2 processes, except the fusion module's own "
              "learning rate; streamed with the published ablation's settings (cells at 1 thread)"),
        lr_fusion=args.lr_fusion, training=training,
        fusion_strength=strength, strength_worlds=args.strength_worlds,
        comparable=dict(row=DETACH, prompt=prompts[0], summary_published=shown, summary_here=again,
                        difference=again - shown),
        tables={at: ablation_table(dict(settings=settings, rows=rows_shown), float(at)) for at in ("30", "60")},
        paired=pairs, minutes_this_call=round((time.time() - t0) / 60, 1))   # the training runs: `training`
    write_json(args.result, record)
    print(record["tables"]["60"])
    for pair, at in pairs.items():
        print(pair, {m: (None if c is None else f"{c['mean']:+.4g} ± {c['se']:.2g}") for m, c in at["60"].items()})
    print(f"wrote {args.result}")


if __name__ == "__main__":
    main()
