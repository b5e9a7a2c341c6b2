"""A toy teacher trained with other settings, then read by the prompt probe: does it read the objects and ground words?

The toy teacher draws the prompt's lighting and palette but not its ground pattern or kind of objects, and the probe
(scripts/teacher_prompt_probe.py) says it does not read those words at all: a wrong one raises its loss by at most
0.001. This trains a teacher with one or more settings changed, on the same latent clips (the cache of a finished
teacher run, linked, not encoded again), runs the probe on it, then judges its guided samples of the 16 test prompts
of `eval quality` (FD and attribute accuracy per attribute: what the goal measures; the shipped teacher's row is in
benchmarks/results/quality.json). Candidates: a lower shift (more training at the
middle noise levels, where a pattern shows but is ambiguous), a longer run, a larger model, a loss that weighs fine
detail more (`--hf-weight`, 09_teacher section 5b: the same minimiser).

    .venv/bin/python scripts/teacher_experiment.py --tag shift2 --shift 2 \\
        --latents-from runs/toy_v2/teacher/latents --vae runs/toy_vae --minutes 55

Without `--latents-from` the run encodes its own latent clips first (3 minutes on two threads, the shipped VAE).

A longer run of the shipped recipe continues a finished run's last state instead of starting again (exact resume):

    .venv/bin/python scripts/teacher_experiment.py --tag long --steps 16000 --continue-from runs/toy_v2/teacher \\
        --latents-from runs/toy_v2/teacher/latents --vae runs/toy_vae --minutes 55

Resumable: rerun the same command until it says the probe was written (runs/exp_teacher_<tag>/, then
benchmarks/results/teacher_probe_<tag>.json). The VAE must be the one the linked latents were encoded with.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

from endless_world.checkpoint import write_json
from endless_world.quality import eval_quality, format_report
from endless_world.train.teacher import SHIFT, TEACHER_ARCH, train_teacher

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from teacher_prompt_probe import main as probe  # noqa: E402  (a script beside this one, not a package module)


def link_latents(source: Path, out_dir: Path):
    "Link a finished run's latent caches (train.pt, val.pt) into `out_dir/latents`, so they are not encoded again."
    target = out_dir / "latents"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("train.pt", "val.pt"):
        if not (source / name).is_file():
            raise FileNotFoundError(f"{source / name}: no latent cache to link (a finished teacher run's latents/)")
        if not (target / name).exists():
            (target / name).symlink_to((source / name).resolve())


def continue_from(run: Path, out_dir: Path):
    "Start `out_dir` from a run's last training state (a longer run of the same recipe continues it exactly)."
    if (out_dir / "state.pt").exists():
        return                                   # already started: resume this run's own state
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("state.pt", "log.jsonl"):
        if not (run / name).is_file():
            raise FileNotFoundError(f"{run / name}: no training state to continue (a teacher run's folder)")
        shutil.copyfile(run / name, out_dir / name)


def main(args):
    out_dir = REPO / "runs" / f"exp_teacher_{args.tag}"
    if args.latents_from is not None:
        link_latents(args.latents_from, out_dir)
    if args.continue_from is not None:
        continue_from(args.continue_from, out_dir)
    arch = dict(TEACHER_ARCH, **{k: v for k, v in (("dim", args.dim), ("num_layers", args.layers),
                                                    ("num_heads", args.heads)) if v is not None})
    teacher = train_teacher(out_dir, steps=args.steps, minutes=args.minutes, threads=args.threads,
                            shift=args.shift, arch=arch, lr=args.lr, vae_path=args.vae, hf_weight=args.hf_weight)
    finished = out_dir / "teacher.safetensors"
    if teacher is None or not finished.is_file():
        print(f"stopped before the end: rerun the same command to resume ({out_dir})")
        return
    out = REPO / "benchmarks/results" / f"teacher_probe_{args.tag}.json"
    probe(finished, out_dir / "latents/val.pt", [0.1, 0.3, 0.5, 0.7, 0.9], 64, out, args.threads)
    record = json.loads(out.read_text())       # the probe's result, with the settings that made this teacher
    settings = dict(shift=args.shift, steps=args.steps, arch=arch, lr=args.lr, vae=str(args.vae),
                    hf_weight=args.hf_weight)
    log = map(json.loads, (out_dir / "log.jsonl").read_text().splitlines())
    record["val_loss"] = [[e["step"], e["val_loss"]] for e in log if "val_loss" in e]   # the curve: [step, loss]
    if args.samples:   # what the goal measures: the teacher's own guided samples, judged beside the reference rows
        report = eval_quality(out_dir / "samples", teacher=finished, n_prompts=args.samples, vae_path=args.vae,
                              threads=args.threads)
        row = report["rows"]["teacher"]
        record["samples"] = dict(n_prompts=args.samples, fd=row["fd"]["classifier"]["pooled"],
                                 fd_vggt=row["fd"]["vggt"]["pooled"],
                                 attribute_accuracy=row["attribute_accuracy"], per_attribute=row["per_attribute"],
                                 clip_attribute_accuracy=row["clip_attribute_accuracy"],
                                 clip_per_attribute=row["clip_per_attribute"],
                                 quality_json=str(out_dir / "samples/quality.json"))
        print(format_report(report))
    write_json(out, dict(record, settings=settings))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tag", required=True, help="names the run folder and the probe's JSON")
    ap.add_argument("--shift", type=float, default=SHIFT, help=f"the training levels' shift (default: {SHIFT:g})")
    ap.add_argument("--steps", type=int, default=4000, help="training steps (default: 4000)")
    ap.add_argument("--hf-weight", type=float, default=0.0,
                    help="λ of the loss's high-pass term (09_teacher 5b; default: 0, plain flow matching)")
    ap.add_argument("--lr", type=float, default=5e-4, help="learning rate (default: 5e-4)")
    ap.add_argument("--dim", type=int, default=None, help=f"model width (default: {TEACHER_ARCH['dim']})")
    ap.add_argument("--layers", type=int, default=None, help=f"blocks (default: {TEACHER_ARCH['num_layers']})")
    ap.add_argument("--heads", type=int, default=None, help=f"heads (default: {TEACHER_ARCH['num_heads']})")
    ap.add_argument("--latents-from", type=Path, default=None, help="a finished teacher run's latents/ to link")
    ap.add_argument("--vae", type=Path, default=None, help="the VAE of those latents (default: the shipped one)")
    ap.add_argument("--continue-from", type=Path, default=None,
                    help="a teacher run whose state.pt this run starts from (same recipe; --steps counts from 0)")
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long (resumable)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    ap.add_argument("--samples", type=int, default=16,
                    help="test prompts whose guided samples are judged after the probe, as `eval quality` does "
                         "(0: none; default: 16, the prompts of benchmarks/results/quality.json)")
    main(ap.parse_args())
