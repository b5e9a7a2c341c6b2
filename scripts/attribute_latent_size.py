"""How large is each attribute in the latents the teacher denoises? The same world and camera, one word changed.

The teacher keeps lighting and palette at every noise level but loses the ground pattern from σ₀ = 0.1 on
(`16_train_toy`, `--start-sigma` of scripts/teacher_stochastic_sampling.py). This renders test worlds in their own
style and again with one attribute changed to each other value (same seed, same camera path, same frames), encodes
both with the shipped toy VAE (normalised latents, what the teacher sees), and measures the change: its rms over all
latent elements and over the lower half of the latent rows (where the ground is), against the latents' own rms
(about 1). On the flow-matching line x_σ = (1 − σ)·x0 + σ·ε a change of rms d is as large as the noise at
σ = d / (1 + d): above that level the noise covers it.

    .venv/bin/python scripts/attribute_latent_size.py   # -> benchmarks/results/attribute_latent_size.json
"""
import argparse
import dataclasses
import statistics
from pathlib import Path

import torch

from endless_world.checkpoint import write_json
from endless_world.vae import encode_video, load_toy_vae
from endless_world.world import ATTRIBUTES, SPLITS, World

FRAMES, FPS = 81, 16


def rms(t: torch.Tensor) -> float:
    return float(t.pow(2).mean().sqrt())


@torch.no_grad()
def main(args):
    torch.set_num_threads(args.threads)
    vae = load_toy_vae(args.vae)

    def latents(seed, style):   # [C, F, h, w], normalised
        clip = World(seed, style=style).clip(FRAMES, FPS, 0.0).rgb
        return encode_video(vae, clip[None])[0]

    changes = {name: dict(all=[], lower_half=[]) for name in ATTRIBUTES}
    own = []
    for seed in SPLITS["test"][:args.worlds]:
        style = World(seed).style
        base = latents(seed, style)                                           # [C, F, h, w]
        own.append(rms(base))
        for name, values in ATTRIBUTES.items():
            for value in values:
                if value == getattr(style, name):
                    continue
                delta = latents(seed, dataclasses.replace(style, **{name: value})) - base
                changes[name]["all"].append(rms(delta))
                changes[name]["lower_half"].append(rms(delta[..., delta.shape[-2] // 2:, :]))
        print(f"world {seed}: done", flush=True)
    result = dict(worlds=args.worlds, frames=FRAMES, latents_rms=statistics.fmean(own), attributes={})
    for name, parts in changes.items():
        entry = {}
        for part, values in parts.items():
            size = statistics.fmean(values)
            entry[part] = dict(rms=size, covered_from_sigma=size / (1 + size), n=len(values))
        result["attributes"][name] = entry
        print(f"{name:9s} change rms {entry['all']['rms']:.3f} (lower half {entry['lower_half']['rms']:.3f}); "
              f"as large as the noise at sigma {entry['all']['covered_from_sigma']:.2f} "
              f"({entry['lower_half']['covered_from_sigma']:.2f})")
    print(f"latents rms {result['latents_rms']:.3f}")
    write_json(args.out, result)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worlds", type=int, default=8, help="test worlds (default: 8)")
    ap.add_argument("--vae", type=Path, default=None, help="the VAE (default: the shipped toy VAE)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/attribute_latent_size.json"))
    main(ap.parse_args())
