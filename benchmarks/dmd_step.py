"""Where a toy DMD step's time goes, per variant: a cProfile of a few generator updates (each with its critic updates).

Writes benchmarks/results/dmd_step.json: for each variant, seconds per step, and the share of the profiled time spent
in the VAE's streaming decode (the hook's frames), the toy VGGT (the hook's f3D), the generator's denoising calls,
the clean re-runs that write the KV cache, the real and fake scores, L3D's decodes, and backward passes, with the
number of calls of each. Shares add up to less than 1: the rest is the optimiser, EMA, noise draws and Python.
`critic_objective` (the critic updates' rollouts and loss) overlaps the others: it says what the critic's side costs.
Run: `.venv/bin/python benchmarks/dmd_step.py [--steps 2] [--variants detach detach_text3d] [--threads 1]`
Seconds include loading the models and are meaningful only on an otherwise idle machine (the JSON records the load
average before the run); the shares and call counts hold regardless.
"""
import argparse
import cProfile
import os
import platform
import pstats
import tempfile
import time

import torch

from endless_world.checkpoint import write_json
from endless_world.train.self_forcing import train_self_forcing
from endless_world.train.toy import DMD_VARIANTS, TOY_RECIPE

PARTS = {   # name: (file suffix, function) whose cumulative time is the part
    "vae_decode_for_hook": ("endless_world/vae.py", "decode_chunk"),
    "vggt_for_hook": ("endless_world/fusion.py", "frame_features"),
    "generator_denoise": ("endless_world/train/self_forcing.py", "denoise_to_exit"),
    "generator_kv_rerun": ("endless_world/train/self_forcing.py", "cache_clean_chunk"),
    "real_and_fake_scores": ("endless_world/train/self_forcing.py", "window_dmd_terms"),
    "l3d_decode": ("endless_world/train/self_forcing.py", "decode_frames"),
    "backward": ("torch/autograd/__init__.py", "backward"),
    # overlaps the parts above: the critic updates' fresh rollouts (hook included) and their flow-matching loss
    "critic_objective": ("endless_world/train/self_forcing.py", "critic_objective"),
}


def profile_variant(variant: str, steps: int, threads: int) -> dict:
    "Train `variant` for `steps` updates from the shipped ODE init in a temporary folder, under cProfile."
    settings = DMD_VARIANTS[variant]
    with tempfile.TemporaryDirectory() as out:
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        train_self_forcing(out, "data/toy_student_ode.safetensors", "data/toy_teacher.safetensors", steps=steps,
                           threads=threads, progress=False, dmd=TOY_RECIPE["dmd"]["dmd"], **settings)
        profiler.disable()
        total = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats     # (file, line, name) -> (calls, primitive calls, tottime, cumtime, callers)
    parts = {}
    for part, (suffix, name) in PARTS.items():
        hits = [(v[1], v[3]) for (file, _, fn), v in stats.items() if fn == name and file.endswith(suffix)]
        calls, cum = sum(h[0] for h in hits), sum(h[1] for h in hits)
        parts[part] = dict(calls=calls, share=round(cum / total, 4))
    return dict(sec_per_step=round(total / steps, 2), profiled_sec=round(total, 2), parts=parts, **settings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=["detach", "detach_text3d"], choices=list(DMD_VARIANTS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/dmd_step.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    # the 1-minute load average before the run: above ~0.5, other jobs shared the cores and the seconds are slower
    results = dict(load_average_before=round(os.getloadavg()[0], 2), steps=args.steps, threads=args.threads,
                   torch=torch.__version__, machine=platform.machine(), dmd=dict(TOY_RECIPE["dmd"]["dmd"]))
    results["variants"] = {v: profile_variant(v, args.steps, args.threads) for v in args.variants}
    write_json(args.out, results)
    for name, r in results["variants"].items():
        shares = ", ".join(f"{k} {p['share']:.0%} ({p['calls']})" for k, p in r["parts"].items() if p["calls"])
        print(f"{name}: {r['sec_per_step']} s/step; {shares}")


if __name__ == "__main__":
    main()
