"""Frames of teachers' guided samples beside ground truth: what a teacher experiment's numbers look like.

For each prompt, one figure row per sampler: ground truth (a test world of the prompt's style), ground truth through
the shipped toy VAE, then each teacher's guided 48-step sample (noise from seed 0), six frames over the 81. The
default prompts are the first two of `eval quality`'s 16 test prompts; teachers are named `label=path`, with `@W`
after the path for word guidance at scale W (`09_teacher` 6b); `--generator label=path` adds a few-step student's
streamed sample:

    .venv/bin/python scripts/teacher_sample_grid.py --out benchmarks/results/teacher_samples_hf.png \\
        --teacher shipped=data/toy_teacher.safetensors "hf 3=runs/exp_teacher_hf3/teacher.safetensors" \\
        "hf 3, 16k=runs/exp_teacher_hf3_long/teacher.safetensors"
    .venv/bin/python scripts/teacher_sample_grid.py --out benchmarks/results/word_guidance_samples.png \
        --teacher "hf 3, 16k=runs/exp_teacher_hf3_long/teacher.safetensors" \
        "+ words 4=runs/exp_teacher_hf3_long/teacher.safetensors@4" \
        --generator "ODE, words 4=runs/exp_ode_hf3_w4/student_ode.safetensors"
"""
import argparse
import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from endless_world.demos import figure_to_png
from endless_world.quality import generator_sampler, plot_sample_grid, teacher_sampler, vae_roundtrip_sampler
from endless_world.train.latent_data import world_prompts
from endless_world.vae import load_toy_vae


def main(args):
    torch.set_num_threads(args.threads)
    vae = load_toy_vae()
    samplers = {"through the VAE": vae_roundtrip_sampler(vae)}
    for item in args.teacher:
        label, _, path = item.partition("=")
        path, _, word_scale = path.partition("@")
        if not path or not Path(path).is_file():
            raise SystemExit(f"--teacher {item!r}: give label=path[@W] to a teacher's .safetensors (file not found)")
        samplers[label] = teacher_sampler(path, vae=vae, word_scale=float(word_scale or 0))
    for item in args.generator:
        label, _, path = item.partition("=")
        if not path or not Path(path).is_file():
            raise SystemExit(f"--generator {item!r}: give label=path to a student's .safetensors (file not found)")
        samplers[label] = generator_sampler(path, vae=vae)
    prompts = args.prompt or world_prompts("test", args.n_prompts)
    pages = []                                    # each prompt's grid as an RGB image, stacked top to bottom
    for prompt in prompts:
        png = figure_to_png(plot_sample_grid(samplers, prompt, seed=0), dpi=100)
        pages.append(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")))
    width = max(page.shape[1] for page in pages)
    pages = [np.pad(page, ((0, 0), (0, width - page.shape[1]), (0, 0)), constant_values=255) for page in pages]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(pages)).save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", nargs="+", required=True,
                    help="label=path[@W] of each teacher's .safetensors (W: word guidance, default 0)")
    ap.add_argument("--generator", nargs="*", default=[], help="label=path of few-step students' .safetensors")
    ap.add_argument("--prompt", nargs="*", default=None, help="prompts (default: the first --n-prompts test prompts)")
    ap.add_argument("--n-prompts", type=int, default=2, help="test prompts when --prompt is not given (default: 2)")
    ap.add_argument("--out", type=Path, required=True, help="the PNG to write")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    main(ap.parse_args())
