"""Experiment: which ingredient of TOY_RECIPE makes its students stream less steadily than the plain recipe's?

The shipped students (TOY_RECIPE) read the prompt better than the plain recipe's and flicker twice as much
(`13d_ablation`). The recipe changed three things at once: a teacher trained with the high-pass term (hf 3), ODE
pairs sampled with word guidance, and word guidance in DMD's real score. Self-Forcing baselines trained with one
change at a time exist from the recipe's own experiments (`16_train_toy`, *Guidance on one word*). This streams each
for 60 s with the attention sink on the ablation's 16 test prompts (the "+ attention sink" row of `eval ablation`,
cells cached in runs/steadiness) and pairs every measure prompt by prompt with the shipped row of
benchmarks/results/ablation.json. Rows already measured there (the shipped set, and the plain recipe's frozen
`plain_recipe/ablation.json`) are read, not streamed again.
Writes benchmarks/results/steadiness.json and steadiness.png (attribute accuracy against flicker, one point a row).
Run: `.venv/bin/python scripts/steadiness_experiment.py [--threads 2]` (about 3 minutes a streamed row on 2 threads).
The checkpoints (not shipped) are made by the commands in `16_train_toy`; the JSON records each one's SHA-256.
"""
import argparse
import json
import statistics
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

from endless_world.ablation import SINK, AblationRow, Judges, paired_difference, run_ablation
from endless_world.checkpoint import write_json
from endless_world.train.latent_data import file_sha256, world_prompts

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
METRICS = ("summary", "semantic", "flicker", "warp_residual", "fd", "colour_drift")

# (label, what differs from the shipped recipe, a checkpoint to stream or an ablation JSON whose sink row to read)
ROWS = [
    ("plain recipe (30 Nov)", "plain teacher, plain pairs, plain real score",
     RESULTS / "plain_recipe" / "ablation.json"),
    ("hf teacher", "hf 3 teacher, plain pairs, plain real score",
     REPO / "runs/exp_dmd_sf_hf3/generator.safetensors"),
    ("hf teacher, words 4 in DMD", "hf 3 teacher, plain pairs, real score with words 4",
     REPO / "runs/exp_dmd_sf_plainpairs_w4/generator.safetensors"),
    ("TOY_RECIPE, words 2 in DMD", "hf 3 teacher, pairs with words 4, real score with words 2",
     REPO / "runs/exp_dmd_sf_w2/generator.safetensors"),
    ("TOY_RECIPE (shipped)", "hf 3 teacher, pairs with words 4, real score with words 4",
     RESULTS / "ablation.json"),
]


def sink_row_at(path: Path, seconds: str, prompts: list) -> dict:
    "The '+ attention sink' row of a published ablation JSON at `seconds`, checked to be on the same prompts."
    published = json.loads(path.read_text())
    if published["settings"]["prompts"][:len(prompts)] != prompts:
        raise ValueError(f"{path}: its prompts are not the first {len(prompts)} test prompts")
    return published["rows"][SINK]["at"][seconds]


def plot(result: dict, path: Path):
    "Attribute accuracy (x) against flicker (y), one point per row, ground truth's flicker as a line."
    fig, ax = plt.subplots(figsize=(7, 4))
    points = {label: (row["semantic"]["mean"], row["flicker"]["mean"]) for label, row in result["rows"].items()}
    middle = statistics.fmean(x for x, _ in points.values())
    for label, (x, y) in points.items():           # labels point away from the middle, inside the axes
        ax.scatter(x, y)
        right = x > middle
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(-5 if right else 5, 4), fontsize=7,
                    ha="right" if right else "left")
    ax.margins(x=0.15, y=0.12)
    ax.axhline(result["ground_truth"]["flicker"], color="gray", ls="--", lw=1)
    ax.text(ax.get_xlim()[0], result["ground_truth"]["flicker"], " ground truth", va="bottom", fontsize=7,
            color="gray")
    ax.set_xlabel(f"attribute accuracy per frame ({result['seconds']} s streams, sink)")
    ax.set_ylabel("flicker (lower: steadier)")
    ax.set_title("Self-Forcing baselines: what each recipe change costs in steadiness")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(threads=2, seconds=60, n_prompts=16, out=RESULTS / "steadiness.json"):
    prompts = world_prompts("test", n_prompts)
    at = f"{seconds:g}"
    reference = sink_row_at(RESULTS / "ablation.json", at, prompts)           # the shipped row: every pair's base
    rows, judges = {}, None
    for label, change, source in ROWS:
        if source.suffix == ".json":
            cells, origin = sink_row_at(source, at, prompts), str(source.relative_to(REPO))
        else:
            if not source.is_file():
                raise FileNotFoundError(f"{source} is missing: train it with the commands in 16_train_toy")
            judges = judges or Judges.load()
            row = AblationRow(f"+ attention sink: {label}", source, "self_forcing", sink=1)
            cells = run_ablation([row], prompts, seconds, REPO / "runs" / "steadiness", judges=judges,
                                 table_seconds=(seconds,), progress=False)["rows"][row.name]["at"][at]
            origin = dict(checkpoint=str(source.relative_to(REPO)), sha256=file_sha256(source))
        rows[label] = dict(recipe=change, source=origin,
                           **{m: dict(mean=cells[m]["mean"], std=cells[m]["std"],
                                      change_from_shipped=paired_difference(cells[m]["per_prompt"],
                                                                 reference[m]["per_prompt"][:n_prompts]))
                              for m in METRICS})
        print(f"{label:40s} " + "  ".join(f"{m} {rows[label][m]['mean']:.4f}" for m in METRICS))
    truth = json.loads((RESULTS / "ablation.json").read_text())["rows"]["ground truth"]["at"][at]
    result = dict(seconds=seconds, prompts=n_prompts, variant="self_forcing (no detach, no fusion), sink 1",
                  threads=threads, rows=rows, ground_truth={m: truth[m]["mean"] for m in METRICS if m in truth},
                  note="change_from_shipped: paired over prompts with the shipped '+ attention sink' row")
    write_json(out, result)
    plot(result, out.with_suffix(".png"))
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    ap.add_argument("--seconds", type=float, default=60, help="stream length (default: 60)")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    main(a.threads, a.seconds)
