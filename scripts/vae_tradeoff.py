"""Experiment: which toy VAE shape can reach issue 8's 28 dB and keep streaming decode at >= 200 frames/s?

The shipped toy VAE (8x8x32 latents per 4 frames of 64x64: patch 2, then two 2x stages) reads 24.0 dB on the val
clips: boxes become blobs and the ground's lines vanish (13c: ground truth through it loses the ground pattern and
part of the palette). The issue names the levers: less spatial compression (16x16 latents), more channels, longer
training. This script measures, for a few candidate `AutoencoderKLWan` configs built the same way as the shipped one:
  - the latent shape and what it costs the DiT (tokens per latent frame at the shipped patch (1, 2, 2), and the
    patch that keeps the shipped 16 tokens);
  - parameters, and streaming decode speed with random weights (speed does not depend on them), one thread, as
    diffusers builds the model (PyTorch's own convolution kernels, F.normalize) one latent frame a call;
  - `decode_shipped_path`: the speed the way `load_toy_vae` decodes (oneDNN convolutions, sum-of-squares RMS norms,
    a whole chunk of 3 latent frames a call), on 1 and 2 threads, the candidates taking turns over 3 rounds (median).
Writes benchmarks/results/vae_tradeoff.json (rows of other candidates are kept).
Run: `.venv/bin/python scripts/vae_tradeoff.py [--only NAME ...]`
"""
import argparse
import json
import os
import statistics
import sys
from functools import partial
from pathlib import Path

import torch

from endless_world.checkpoint import write_json
from endless_world.vae import build_vae, fast_rms_norms, onednn_convs, toy_vae_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from vae import decode_speed, interleaved  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "vae_tradeoff.json"


def candidate(z_dim: int = 32, **changes) -> dict:
    "A toy VAE config: `toy_vae_config(z_dim)` with `changes`."
    return {**toy_vae_config(z_dim=z_dim), **changes}


# patch_size None: no 2x2 pixel patching before the encoder, so two 2x stages give 16x16 latents
CANDIDATES = {
    "shipped shape: 8x8x32": candidate(),
    "8x8x32, decoder x1.5 wide": candidate(decoder_base_dim=24),
    "16x16x16, no patching": candidate(z_dim=16, patch_size=None, in_channels=3, out_channels=3),
    "16x16x16, no patching, thin decoder": candidate(z_dim=16, patch_size=None, in_channels=3, out_channels=3,
                                                      decoder_base_dim=8),
}


@torch.no_grad()
def shape_and_speed(config: dict, repeats: int = 5) -> dict:
    "Latent shape, DiT tokens, parameters and one-thread streaming decode speed (chunks of 1 latent frame)."
    vae = build_vae(config).eval()
    shape = vae.encode(torch.zeros(1, 3, 5, 64, 64)).latent_dist.mean.shape        # [1, C, 2, h, w]
    _, channels, _, h, w = shape
    speed = decode_speed(vae, chunk=1, repeats=repeats, latent_hw=(h, w))        # benchmarks/vae.py's timing
    count = lambda module: sum(p.numel() for p in module.parameters())             # noqa: E731
    return dict(latent=[channels, h, w], values_per_frame=channels * h * w / 4, compression=64 * 64 * 3 * 4 /
                (channels * h * w), dit_tokens_per_latent_frame_patch_2=h * w // 4,
                patch_for_16_tokens=[1, h // 4, w // 4], params_encoder=count(vae.encoder),
                params_decoder=count(vae.decoder) + count(vae.post_quant_conv), decode_fps_1_thread=speed["fps_median"],
                decode_frames=speed["frames_per_stream"])


@torch.no_grad()
def shipped_path_speeds(configs: dict, threads=(1, 2), rounds: int = 3) -> dict:
    "{name: {threads: frames/s}} streaming whole chunks through `load_toy_vae`'s kernels; candidates take turns."
    models = {name: fast_rms_norms(onednn_convs(build_vae(config).eval())) for name, config in configs.items()}
    latent_hw = {name: tuple(model.encode(torch.zeros(1, 3, 5, 64, 64)).latent_dist.mean.shape[-2:])
                 for name, model in models.items()}
    speeds = {name: {} for name in models}
    cases = {name: partial(decode_speed, model, chunk=3, repeats=3, latent_hw=latent_hw[name], frames_per_call=None)
             for name, model in models.items()}
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        for name, runs in interleaved(cases, rounds).items():
            speeds[name][str(n_threads)] = statistics.median(r["fps_median"] for r in runs)
    return speeds


def main(only: list | None, threads: int = 1):
    torch.set_num_threads(threads)
    result = json.loads(OUT.read_text()) if OUT.exists() else {}
    result.update(threads=threads, torch=torch.__version__, cpu_count=os.cpu_count(),
                  note="decode speed: random weights, batch 1, one latent frame per call, 81 frames, median of 5; "
                       "other jobs may share the machine (load average recorded)")
    rows = result.setdefault("candidates", {})
    for name, config in CANDIDATES.items():
        if only and name not in only:
            continue
        row = rows.setdefault(name, {})
        row.update(config=config, load_average=os.getloadavg()[0], **shape_and_speed(config))
        print(name, {k: v for k, v in row.items() if k != "config"}, flush=True)
        write_json(OUT, result)
    chosen = {name: config for name, config in CANDIDATES.items() if not only or name in only}
    for name, speeds in shipped_path_speeds(chosen).items():
        rows[name]["decode_shipped_path"] = dict(fps_by_threads=speeds, load_average=os.getloadavg()[0],
                                                 how="oneDNN convolutions, sum-of-squares norms, whole chunks of 3 "
                                                     "latent frames, 81 frames, median of 3 interleaved rounds")
        print(name, "load_toy_vae's path:", speeds, flush=True)
    write_json(OUT, result)
    torch.set_num_threads(threads)
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", default=None, help="only these candidates (names as in CANDIDATES)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    a = ap.parse_args()
    main(a.only, a.threads)
