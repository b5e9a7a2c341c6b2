"""How fast a toy DMD stage runs on this machine's cores: one process (1 or 2 threads) against two gloo processes.

Each layout trains a variant for a few generator updates (each with its 5 critic updates) from the shipped ODE init
in a temporary folder, through the command line (`endless-world train self-forcing`, under `torchrun` for two
processes), and reads the seconds per update from the run's log. The first update is left out (warm-up). The
projected stage is the recipe's 600 updates at the median. Writes benchmarks/results/dmd_stage_speed.json.
Run: `.venv/bin/python benchmarks/dmd_stage_speed.py [--variants detach detach_text3d] [--steps 6]`
A change's effect: `... --variants detach_text3d --layouts "2 processes, 1 thread each" --against REV` runs this
checkout and `endless_world` of git revision REV alternately (`--rounds` each) and writes their ratio under 'paired'.
Run it on an otherwise idle machine: the JSON records the load average before each layout, and a probe: the
milliseconds of a fixed small workload on one thread (`machine_probe`) just before it, since this machine's speed
drifts by tens of percent within an hour with nothing else running. (Before 1 December the probe ran aten's
mkldnn_convolution directly instead of F.conv3d: 23.4 ms against 26.9 ms on that day's slower machine.)
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from endless_world.checkpoint import write_json
from endless_world.train.toy import DMD_VARIANTS, TOY_RECIPE, machine_probe, toy_stages

ROOT = Path(__file__).resolve().parents[1]

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


def measure(variant: str, steps: int, processes: int, threads: int,
            package_dir: Path | None = None) -> dict:     # a folder holding another `endless_world` to run instead
    "Seconds per update of `variant` in one layout (the median after the first update)."
    load, probe = os.getloadavg()[0], machine_probe()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = stage_command(variant, out, steps, processes, threads)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if package_dir is not None:                # ahead of the editable install, in torchrun's workers too
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_dir), env.get("PYTHONPATH")]))
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if line.strip()]
    secs = [e["sec_per_step"] for e in log[1:]]
    median = statistics.median(secs)
    return dict(processes=processes, threads=threads, load_average_before=round(load, 2),
                probe_ms_before=round(probe, 2), measured_at=time.strftime("%Y-%m-%d %H:%M"),
                sec_per_step=[round(s, 2) for s in secs], median_sec_per_step=round(median, 2),
                projected_stage_minutes=round(median * TOY_RECIPE["dmd"]["steps"] / 60, 1),
                losses=[round(e["loss"], 6) for e in log])


def package_at(rev: str, folder: Path) -> Path:
    "`endless_world` as it was at git revision `rev`, unpacked in `folder` beside a link to this checkout's data/."
    archive = subprocess.run(["git", "archive", rev, "endless_world"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    (folder / "data").symlink_to(ROOT / "data")           # its shipped_path looks beside the package
    return folder


def git(*args) -> str:
    "The output of a git command in this checkout."
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def paired(variant: str, steps: int, layout: str, rev: str, rounds: int) -> dict:
    "This checkout against revision `rev`, alternating, `rounds` times each: a drift of the machine hits both alike."
    with tempfile.TemporaryDirectory() as tmp:
        other = package_at(rev, Path(tmp))
        runs = {"this": [], rev: []}
        for _ in range(rounds):
            runs["this"].append(measure(variant, steps, *LAYOUTS[layout]))
            runs[rev].append(measure(variant, steps, *LAYOUTS[layout], package_dir=other))
    medians = {k: [r["median_sec_per_step"] for r in v] for k, v in runs.items()}
    ratios = [a / b for a, b in zip(medians["this"], medians[rev], strict=True)]
    dirty = git("status", "--porcelain", "endless_world")
    return dict(layout=layout, against=rev, against_commit=git("rev-parse", "--short", rev),
                this_commit=git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else ""),
                rounds=rounds, median_sec_per_step=medians,
                probe_ms_before={k: [r["probe_ms_before"] for r in v] for k, v in runs.items()},
                ratio_per_round=[round(r, 3) for r in ratios], ratio_median=round(statistics.median(ratios), 3),
                measured_at=runs["this"][0]["measured_at"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(DMD_VARIANTS), choices=list(DMD_VARIANTS))
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    parser.add_argument("--steps", type=int, default=6, help="updates per measurement (the first is left out)")
    parser.add_argument("--out", default="benchmarks/results/dmd_stage_speed.json", help="where the JSON goes; a rerun "
                        "keeps the variants it does not measure")
    parser.add_argument("--against", metavar="REV", help="instead: this checkout against git revision REV, "
                        "alternating, in the first of --layouts (written under 'paired')")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements of each layout (or, with --against, of each revision), alternating")
    args = parser.parse_args()
    results = dict(cpu=platform.machine(), cpu_count=os.cpu_count(), torch=torch.__version__, steps=args.steps,
                   stage_steps=TOY_RECIPE["dmd"]["steps"], budget_minutes=60, variants={})
    if Path(args.out).is_file():                  # a rerun of some variants keeps the others
        earlier = json.loads(Path(args.out).read_text())
        results["variants"], results["paired"] = earlier.get("variants", {}), earlier.get("paired", {})
    if args.against:
        for variant in args.variants:
            row = paired(variant, args.steps, args.layouts[0], args.against, args.rounds)
            results.setdefault("paired", {})[variant] = row
            print(f"{variant} | {row['layout']}: this / {args.against} = {row['ratio_median']} (median of "
                  f"{row['ratio_per_round']}), s/update {row['median_sec_per_step']}", flush=True)
            write_json(args.out, results)
        return
    for variant in args.variants:
        rows = results["variants"].setdefault(variant, {})
        rounds = {name: [] for name in args.layouts}
        for _ in range(args.rounds):     # layouts alternate: a drift of the machine hits each alike
            for name in args.layouts:
                rounds[name].append(measure(variant, args.steps, *LAYOUTS[name]))
        for name, runs in rounds.items():
            median = statistics.median(r["median_sec_per_step"] for r in runs)
            rows[name] = dict(runs[0], rounds=len(runs), median_sec_per_step=round(median, 2),
                              median_sec_per_step_per_round=[r["median_sec_per_step"] for r in runs],
                              probe_ms_before=[r["probe_ms_before"] for r in runs],
                              projected_stage_minutes=round(median * TOY_RECIPE["dmd"]["steps"] / 60, 1))
            print(f"{variant} | {name}: {rows[name]['median_sec_per_step']} s/update "
                  f"({rows[name]['median_sec_per_step_per_round']}), "
                  f"600 updates = {rows[name]['projected_stage_minutes']} min", flush=True)
        write_json(args.out, results)


if __name__ == "__main__":
    main()
