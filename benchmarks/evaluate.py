"""Validation of the evaluation harness (nbs/13_evaluate) on ground truth, written as JSON.

For each test world: 60 s of ground truth and corrupted copies (colour drift, growing noise, late blur, late freeze,
shuffled frames), each scored in 5-s bins against 16 ground-truth clips of the world's prompt with the shipped toy
VGGT's features and depth; then one 5-minute ground-truth run. Reports every metric's mean and per-bin curve, the
scores and the summary, and the seconds each step took.

    python benchmarks/evaluate.py            # -> benchmarks/results/evaluate.json
"""
import argparse
import json
import os

# Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning threads steal the other core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import platform
import time
from functools import partial
from pathlib import Path

import torch

from endless_world.evaluate import corrupt, evaluate_video, make_reference, reference_clips, vggt_depth, vggt_features
from endless_world.toy_vggt import load_toy_vggt
from endless_world.world import World, long_video

VARIANTS = ("colour drift", "growing noise", "late blur", "late freeze", "shuffled")


def rounded(value, digits=5):
    "Floats (in nested lists and dicts) to `digits` significant digits, for a readable JSON."
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def mean(values) -> float:
    return sum(values) / len(values)


def summarise(result: dict) -> dict:
    "The parts of an `evaluate_video` result worth keeping: means, curves, scores, the summary."
    return dict(summary=result["summary"], summary_per_bin=result["summary_per_bin"],
                metric_means={k: mean(v) for k, v in result["metrics"].items()},
                score_means={k: mean(v) for k, v in result["scores"].items()},
                metrics=result["metrics"])


def ground_truth(world: World, frames: int) -> torch.Tensor:
    return torch.cat([f.rgb for f in long_video(world, frames, progress=False)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "evaluate.json"))
    parser.add_argument("--worlds", default="2000000,2000001,2000002", help="test-split world seeds, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--long-seconds", type=float, default=300.0, help="the long ground-truth run (0: skip)")
    parser.add_argument("--reference-clips", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    vggt, _ = load_toy_vggt()
    feature_fn, depth_fn = partial(vggt_features, vggt), partial(vggt_depth, vggt)
    fps, started = 16, time.perf_counter()
    out = dict(protocol=dict(fps=fps, bin_seconds=5.0, seconds=args.seconds, reference_clips=args.reference_clips,
                             reference_seconds=5.0, features="toy VGGT last aggregated layer, patch mean (128-d)",
                             depth="toy VGGT depth head, one frame at a time", pair_gap=4, pair_stride=8,
                             fit_steps=90, threads=args.threads, torch=torch.__version__,
                             machine=platform.processor() or platform.machine()),
               worlds={})
    for seed in (int(s) for s in args.worlds.split(",")):
        world = World(seed)
        t0 = time.perf_counter()
        reference = make_reference(reference_clips(world.prompt, args.reference_clips), fps, feature_fn, depth_fn)
        entry = dict(prompt=world.prompt, reference_levels=reference.levels,
                     reference_s=time.perf_counter() - t0, variants={})
        truth = ground_truth(world, round(args.seconds * fps))
        for kind in ("ground truth",) + VARIANTS:
            t0 = time.perf_counter()
            video = truth if kind == "ground truth" else corrupt(truth, kind)
            entry["variants"][kind] = dict(summarise(evaluate_video(video, fps, world.prompt, reference)),
                                           seconds=time.perf_counter() - t0)
            print(f"{seed} {kind:14s} summary {entry['variants'][kind]['summary']:.3f} "
                  f"({entry['variants'][kind]['seconds']:.0f} s)", flush=True)
        out["worlds"][str(seed)] = entry
        if args.long_seconds > 0 and "long_run" not in out:
            t0 = time.perf_counter()
            long_truth = ground_truth(world, round(args.long_seconds * fps))
            rendered = time.perf_counter() - t0
            result = summarise(evaluate_video(long_truth, fps, world.prompt, reference))
            per_bin = result["summary_per_bin"]
            out["long_run"] = dict(world=seed, prompt=world.prompt, seconds_of_video=args.long_seconds,
                                   render_s=rendered, evaluate_s=time.perf_counter() - t0 - rendered,
                                   summary_first_minute=mean(per_bin[:12]),
                                   summary_last_minute=mean(per_bin[-12:]), **result)
            print(f"{seed} {args.long_seconds:.0f}-s ground truth: summary {result['summary']:.3f} "
                  f"(first minute {out['long_run']['summary_first_minute']:.3f}, last "
                  f"{out['long_run']['summary_last_minute']:.3f})", flush=True)
    out["total_s"] = time.perf_counter() - started
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rounded(out), indent=1))
    print(f"wrote {args.out} in {out['total_s']:.0f} s")


if __name__ == "__main__":
    main()
