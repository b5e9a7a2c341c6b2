"""Is the teacher's deterministic sampler what keeps its samples foggy? The same teacher, sampled with fresh noise.

The toy teacher returns a lightly noised clip (objects in place) but draws fog from pure noise (`16_train_toy`).
Samplers that re-inject noise at every step correct some of an imperfect model's errors, so this samples the
teacher with a DDIM-like step on the flow-matching line: from the model's clean estimate x̂₀ = x − σ·v and noise
estimate ε̂ = x + (1 − σ)·v, the next state is (1 − σ')·x̂₀ + c_ε·ε̂ + c_new·ε_fresh with
c_new = η·σ'·sqrt(1 − (σ'/σ)²) and c_ε = sqrt(σ'² − c_new²). η = 0 is the Euler ODE step of `sample_teacher`
(the row must equal the teacher's row of benchmarks/results/quality.json); η = 1 replaces as much of the noise as the
step allows. Each η is judged on `eval quality`'s 16 test prompts beside the reference rows.

    .venv/bin/python scripts/teacher_stochastic_sampling.py --eta 0 0.5 1   # -> benchmarks/results/teacher_eta.json

`--shift` also changes the sampling grid's shift (the teacher was trained at shift 5, and its grid spends most steps
at high noise; a lower shift spends them at the middle and low levels, where structure is drawn):

    .venv/bin/python scripts/teacher_stochastic_sampling.py --eta 0 --shift 1 2 3 \\
        --out benchmarks/results/teacher_sample_shift.json

`--start-sigma` starts the ODE not from pure noise but from the prompt's ground-truth clip (the VAE row's clip,
encoded) noised to the first level of the grid at or below each σ (SDEdit): up to which noise level does the teacher
carry a scene it is given, and where does it stop making one?

    .venv/bin/python scripts/teacher_stochastic_sampling.py --eta 0 \\
        --start-sigma 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 0.95 --out benchmarks/results/teacher_start_sigma.json

and for the teachers of scripts/teacher_experiment.py (tags wide, long, shift1; the last two at 0.1-0.6 and 0.8):
`--teacher runs/exp_teacher_<tag>/teacher.safetensors --out benchmarks/results/teacher_start_sigma_<tag>.json`.
"""
import argparse
from pathlib import Path

import torch

from endless_world.attributes import load_attribute_classifier
from endless_world.checkpoint import shipped_path, write_json
from endless_world.quality import CLIP_FRAMES, decode_latents, format_report, ground_truth_sampler, quality_report
from endless_world.text import load_toy_text_encoder
from endless_world.toy_vggt import load_toy_vggt
from endless_world.train.latent_data import world_prompts
from endless_world.train.ode_init import load_teacher
from endless_world.sampler import sample_noise
from endless_world.train.teacher import (GUIDANCE_SCALE, NUM_TRAIN_TIMESTEPS, ODE_STEPS, SHIFT, add_noise,
                                         cfg_velocity, euler_scheduler)
from endless_world.vae import encode_video, load_toy_vae


@torch.no_grad()
def sample_with_eta(teacher, context, latent_shape, eta: float, generator: torch.Generator,
                    num_steps: int = ODE_STEPS, guidance_scale: float = GUIDANCE_SCALE,
                    shift: float = SHIFT, start: torch.Tensor | None = None,
                    start_sigma: float = 1.0) -> torch.Tensor:
    """Latents [1, C, F, h, w] from the guided teacher on the shifted grid of `sample_teacher`, η of fresh noise a step;
    with `start` (clean latents [1, C, F, h, w]), from them noised to the grid's first level at or below
    `start_sigma`."""
    x = sample_noise((1, *latent_shape), generator, torch.float32, "cpu")
    sigmas = euler_scheduler(num_steps, shift).sigmas.tolist()       # `sample_teacher`'s grid, 0 appended
    if start is not None:
        sigmas = [sigma for sigma in sigmas if sigma <= start_sigma]
        x = add_noise(start, x, torch.tensor([sigmas[0]]))              # the flow-matching line at that level
    for sigma, next_sigma in zip(sigmas[:-1], sigmas[1:], strict=True):
        velocity = cfg_velocity(teacher, x, torch.tensor([sigma * NUM_TRAIN_TIMESTEPS]), context, guidance_scale)
        clean, noise = x - sigma * velocity, x + (1 - sigma) * velocity      # the line's two ends, as estimated
        fresh = eta * next_sigma * (1 - (next_sigma / sigma) ** 2) ** 0.5
        kept = (next_sigma ** 2 - fresh ** 2) ** 0.5
        x = (1 - next_sigma) * clean + kept * noise + fresh * torch.randn(x.shape, generator=generator)
    return x


def main(args):
    if not all(0 < sigma <= 1 for sigma in args.start_sigma):
        raise SystemExit(f"--start-sigma: levels in (0, 1] (1: pure noise), got {args.start_sigma}")
    torch.set_num_threads(args.threads)
    teacher, meta = load_teacher(args.teacher)
    vae, text = load_toy_vae(args.vae), load_toy_text_encoder()

    starts = {}   # (prompt, seed, n_frames) -> the clip's latents, encoded once for every level

    def sampler(eta, shift, start_sigma):
        def sample(prompt, seed, n_frames):
            start = None
            if start_sigma < 1:   # the VAE row's clip: the same world and start, encoded
                key = (prompt, seed, n_frames)
                if key not in starts:
                    starts[key] = encode_video(vae, ground_truth_sampler(prompt, seed, n_frames)[None])
                start = starts[key]
            latents = sample_with_eta(teacher, text([prompt]), meta["latent_shape"], eta,
                                      torch.Generator().manual_seed(seed), shift=shift, start=start,
                                      start_sigma=start_sigma)
            return decode_latents(vae, latents)[0]
        return sample

    def name(eta, shift, start_sigma):   # the rows of the shift the teacher was trained at keep their names
        return (f"teacher, eta {eta:g}" + ("" if shift == SHIFT else f", shift {shift:g}")
                + ("" if start_sigma == 1 else f", from ground truth at sigma {start_sigma:g}"))

    samplers = {name(eta, shift, start): sampler(eta, shift, start)
                for start in args.start_sigma for shift in args.shift for eta in args.eta}
    report = quality_report(samplers,
                            world_prompts("test", args.prompts), [0], None, CLIP_FRAMES, 8,
                            vggt=load_toy_vggt()[0], classifier=load_attribute_classifier()[0], vae=vae)
    print(format_report(report))
    write_json(args.out, dict(report, teacher=str(args.teacher), eta=args.eta, shift=args.shift,
                              start_sigma=args.start_sigma))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eta", type=float, nargs="+", default=[0.0, 0.5, 1.0], help="fresh-noise shares to compare")
    ap.add_argument("--shift", type=float, nargs="+", default=[SHIFT],
                    help=f"the sampling grid's shifts to compare (default: {SHIFT:g}, the training shift)")
    ap.add_argument("--start-sigma", type=float, nargs="+", default=[1.0],
                    help="start from the prompt's ground truth noised to these levels (default: 1, pure noise)")
    ap.add_argument("--teacher", type=Path, default=shipped_path("toy_teacher.safetensors"))
    ap.add_argument("--vae", type=Path, default=None, help="the teacher's VAE (default: the shipped one)")
    ap.add_argument("--prompts", type=int, default=16, help="the first N test prompts (default: 16, as eval quality)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/teacher_eta.json"))
    main(ap.parse_args())
