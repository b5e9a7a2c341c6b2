"""Measurement: where in the frame does the shipped toy VAE lose its PSNR, and is it the renderer's aliasing?

The shipped toy VAE reads 24.0 dB on the 16 val clips that `benchmarks/vae.py` uses, but clip by clip it ranges from
18 to 34 dB. This script decodes those clips as a stream (chunks of 3 latent frames, as `benchmarks/vae.py` does) and
writes, per clip and per lighting:
  - the PSNR, and the squared error per image row (mean over frames, colours and columns): where the error sits;
  - the share of the squared error in the band of rows 20-39, around the horizon, where the ground's pattern is
    finest;
  - the PSNR of the same clips rendered at 2x the size and averaged 2x2 (supersampled: the renderer samples one ray
    per pixel, so far ground patterns alias): how much of the loss is aliasing;
  - per latent channel, the posterior's noise (its mean std) against the spread of its means over the clips: the
    channel's signal-to-noise ratio. The VAE was trained on latents sampled from the posterior, so what the encoder
    stores finer than that noise never reached the decoder in training.
Writes benchmarks/results/vae_error.json (nb 01a plots it). About 2 minutes on one thread.
Run: `.venv/bin/python scripts/vae_error_map.py [--clips 16]`
"""
import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch
import torch.nn.functional as F
from einops import rearrange, reduce

from endless_world.checkpoint import write_json
from endless_world.vae import load_toy_vae, normalize_latents, video_to_vae
from endless_world.world import World, WorldClips

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from vae import stream_decode, stream_recon  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "vae_error.json"
HORIZON_ROWS = (20, 40)   # the band of rows around the horizon (of 64)


def psnr(squared_error: torch.Tensor) -> float:
    "PSNR in dB of a mean squared error for pixels in [0, 1]."
    return float(10 * torch.log10(1 / squared_error.mean()))


def channel_snr(means: list, stds: list) -> tuple[list, torch.Tensor]:
    "Per latent channel of posteriors [n, C, f, h, w]: (spread of the means / mean std, the mean std [C])."
    noise = reduce(torch.cat(stds), "n c f h w -> c", "mean")                     # [C]
    signal = rearrange(torch.cat(means), "n c f h w -> c (n f h w)").std(1)   # [C]: spread of the means
    return (signal / noise).tolist(), noise


@torch.no_grad()
def main(n_clips: int = 16, threads: int = 1):
    torch.set_num_threads(threads)
    vae = load_toy_vae()
    clips = WorldClips("val", n_clips=n_clips)                     # the clips `benchmarks/vae.py` measures
    rows, by_lighting, posterior_std, posterior_mean = [], defaultdict(list), [], []
    for i in range(n_clips):
        item = clips[i]
        video = item["rgb"][None]                                  # [1, F, 3, 64, 64]
        posterior = vae.encode(video_to_vae(video)).latent_dist    # encoded once: for the decode and the SNR
        posterior_std.append(posterior.std)                        # [1, C, f, h, w]
        posterior_mean.append(posterior.mean)
        recon = stream_decode(vae, normalize_latents(vae, posterior.mode()))   # as `stream_recon`
        error = (recon - video) ** 2                               # [1, F, 3, 64, 64]
        row_error = reduce(error, "b f c h w -> h", "mean")        # [64]: where the error sits
        # the same clip rendered at 128x128 and averaged 2x2: one ray per pixel -> four
        world = World(item["seed"])
        fine = world.clip(video.shape[1], 16, item["start"], (128, 128)).rgb
        supersampled = F.avg_pool2d(fine, 2)[None]                 # [1, F, 3, 64, 64]
        ss_error = (stream_recon(vae, supersampled) - supersampled) ** 2
        lo, hi = HORIZON_ROWS
        lighting = world.style.lighting
        row = dict(seed=item["seed"], prompt=item["prompt"], lighting=lighting, psnr_db=psnr(error),
                   psnr_db_supersampled=psnr(ss_error),
                   horizon_share=float(row_error[lo:hi].sum() / row_error.sum()),
                   row_mse=[round(float(v), 6) for v in row_error])
        rows.append(row)
        by_lighting[lighting].append(row)
        print(f"{i:2d} {row['psnr_db']:5.2f} dB (supersampled {row['psnr_db_supersampled']:5.2f}), "
              f"{row['horizon_share']:.0%} of the error in rows {lo}-{hi - 1}: {row['prompt']}", flush=True)
    snr, noise = channel_snr(posterior_mean, posterior_std)
    mean = lambda key, rs=rows: sum(r[key] for r in rs) / len(rs)   # noqa: E731
    summary = dict(psnr_db_mean=mean("psnr_db"), psnr_db_supersampled_mean=mean("psnr_db_supersampled"),
                   horizon_share_mean=mean("horizon_share"),
                   channel_snr=[round(v, 3) for v in snr], channel_noise=[round(float(v), 3) for v in noise],
                   by_lighting={name: dict(n=len(rs), psnr_db_mean=mean("psnr_db", rs),
                                           horizon_share_mean=mean("horizon_share", rs),
                                           row_mse=[sum(col) / len(rs)
                                                    for col in zip(*(r["row_mse"] for r in rs), strict=True)])
                                for name, rs in sorted(by_lighting.items())})
    write_json(OUT, dict(note="shipped data/toy_vae on the val clips of benchmarks/vae.py, streaming decode in chunks "
                              "of 3 latent frames; row_mse: squared error per image row, mean over frames, colours "
                              "and columns; supersampled: rendered at 128x128 and averaged 2x2",
                         n_clips=n_clips, horizon_rows=list(HORIZON_ROWS), threads=threads, **summary, clips=rows))
    print(f"posterior signal/noise per latent channel: {', '.join(f'{v:.1f}' for v in snr)}")
    print(f"mean {summary['psnr_db_mean']:.2f} dB, supersampled {summary['psnr_db_supersampled_mean']:.2f} dB, "
          f"{summary['horizon_share_mean']:.0%} of the error around the horizon; wrote {OUT}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=16, help="val clips (those of benchmarks/vae.py)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    main(a.clips, a.threads)
