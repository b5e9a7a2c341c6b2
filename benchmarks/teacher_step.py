"""What one toy-teacher training step costs at other sizes: the lever of more tokens per frame, priced.

The toy teacher sees 8x8 latents through (1, 2, 2) patches: 16 tokens per latent frame, 336 for a 21-frame clip.
Patches of (1, 1, 1) give 64 tokens per frame (each token 8x8 pixels instead of 16x16); a wider, deeper model keeps
the tokens and adds capacity. This times a flow-matching step (batch 8 of 21 latent frames, forward, backward,
AdamW) of each layout on random latents of the shipped VAE's 32 channels, and says what the recipe's 4,000 steps
would take. Run on an otherwise idle machine: the JSON records the load average and `machine_probe` before each.

    .venv/bin/python benchmarks/teacher_step.py [--threads 2] [--steps 8]
"""
import argparse
import os
import platform
import statistics
import time

import torch

from endless_world.checkpoint import write_json
from endless_world.dit import CausalWanDiT
from endless_world.train.teacher import TEACHER_ARCH, flow_matching_loss, teacher_config
from endless_world.train.toy import machine_probe

LAYOUTS = {   # name: (patch size, architecture)
    "shipped: patch (1, 2, 2), dim 128, 4 layers": ((1, 2, 2), TEACHER_ARCH),
    "patch (1, 1, 1), dim 128, 4 layers": ((1, 1, 1), TEACHER_ARCH),
    "patch (1, 2, 2), dim 192, 6 layers": ((1, 2, 2), dict(dim=192, num_layers=6, num_heads=6)),
}


def time_layout(patch: tuple, arch: dict, steps: int, batch: int = 8, channels: int = 32, text_dim: int = 64,
                latent_hw: int = 8) -> dict:
    "Median seconds of `steps` training steps (after 2 warm-up steps) of the teacher at this patch size and arch."
    config = dict(teacher_config(channels, text_dim, **arch), patch_size=patch)
    torch.manual_seed(0)
    model = CausalWanDiT(**config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    latents = torch.randn(batch, channels, 21, latent_hw, latent_hw, generator=gen)   # [B, C, F, h, w]
    context = torch.randn(batch, 12, text_dim, generator=gen)                          # [B, L, D]
    times = []
    for i in range(steps + 2):
        start = time.perf_counter()
        loss, _ = flow_matching_loss(model, latents, context, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - start)
    tokens = (latent_hw // patch[1]) * (latent_hw // patch[2])
    sec = statistics.median(times)
    return dict(patch_size=list(patch), arch=dict(arch), tokens_per_frame=tokens,
                parameters=sum(p.numel() for p in model.parameters()), sec_per_step=round(sec, 4),
                minutes_for_4000_steps=round(4000 * sec / 60, 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", default="benchmarks/results/teacher_step.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = dict(load_average_before=round(os.getloadavg()[0], 2), threads=args.threads, steps=args.steps,
                   torch=torch.__version__, machine=platform.machine(), layouts={})
    for name, (patch, arch) in LAYOUTS.items():
        probe_ms = machine_probe()
        results["layouts"][name] = dict(time_layout(patch, arch, args.steps), probe_ms_before=round(probe_ms, 2))
        r = results["layouts"][name]
        print(f"{name}: {r['tokens_per_frame']} tokens per frame, {r['parameters']:,} parameters, "
              f"{r['sec_per_step']} s per step ({r['minutes_for_4000_steps']} min for 4,000; probe {probe_ms:.1f} ms)")
    write_json(args.out, results)


if __name__ == "__main__":
    main()
