"""Toy VAE benchmark: validation PSNR on world clips and streaming decode speed on CPU.

    python benchmarks/vae.py [--clips 16] [--threads 2] [--random]

Writes benchmarks/results/vae.json. Goals (issue 3): PSNR >= 30 dB at 64x64, decode >= 200 frames/s on 2 cores.
`--random` measures speed with an untrained toy VAE (same config) when data/toy_vae is not there yet.
"""
import argparse
import copy
import json
import os
import platform
import statistics
import time
from functools import partial
from pathlib import Path

import torch

from endless_world.vae import (StreamingVAEDecoder, build_vae, encode_video, fast_rms_norms, load_toy_vae,
                               onednn_convs, toy_vae_config, vae_to_video)
from endless_world.world import WorldClips

ROOT = Path(__file__).resolve().parents[1]


@torch.no_grad()
def stream_decode(vae, z: torch.Tensor) -> torch.Tensor:
    "Normalised latents [1, C, f, h, w] decoded as a stream of 3-latent chunks -> frames [1, F, 3, H, W] in [0, 1]."
    dec = StreamingVAEDecoder(vae, normalized=True)
    return vae_to_video(torch.cat([dec.decode_chunk(c) for c in z.split(3, dim=2)], 2))


@torch.no_grad()
def stream_recon(vae, video: torch.Tensor) -> torch.Tensor:
    "A clip [1, F, 3, H, W] in [0, 1] encoded, then decoded as a stream of 3-latent chunks: the same shape."
    return stream_decode(vae, encode_video(vae, video, normalized=True))   # latents [1, C, 21, 8, 8]


def stream_mse(vae, video: torch.Tensor) -> torch.Tensor:
    "Per-frame MSE [F] of a clip [1, F, 3, H, W] in [0, 1] through `stream_recon`."
    return ((stream_recon(vae, video) - video) ** 2).mean(dim=(0, 2, 3, 4))


@torch.no_grad()
def val_psnr(vae, n_clips: int, frames: int = 81):
    ds = WorldClips('val', n_clips=n_clips, frames=frames, fps=16, size=(64, 64))
    psnrs, first, rest, last = [], [], [], []
    for i in range(n_clips):
        mse = stream_mse(vae, ds[i]['rgb'][None])                      # per frame [F]
        psnrs.append(float(10 * torch.log10(1 / mse.mean())))
        first.append(float(10 * torch.log10(1 / mse[0])))
        rest.append(float(10 * torch.log10(1 / mse[1:].mean())))
        last.append(float(10 * torch.log10(1 / mse[41:].mean())))
    return dict(psnr_db_mean=sum(psnrs) / n_clips, psnr_db_min=min(psnrs), psnr_db_first_frame=sum(first) / n_clips,
                psnr_db_later_frames=sum(rest) / n_clips, psnr_db_frames_41_to_80=sum(last) / n_clips,
                per_clip=psnrs, n_clips=n_clips, frames=frames)


@torch.no_grad()
def long_stream_psnr(vae, n_clips: int = 2, frames: int = 161):
    "PSNR per 40-frame segment of a stream twice as long as the training clips (81 frames)."
    ds = WorldClips('val', n_clips=n_clips, frames=frames, fps=16, size=(64, 64))
    segs = torch.zeros(frames // 40)
    for i in range(n_clips):
        video = ds[i]['rgb'][None]
        z = encode_video(vae, video, normalized=True)
        dec = StreamingVAEDecoder(vae, normalized=True)
        recon = vae_to_video(torch.cat([dec.decode_chunk(c) for c in z.split(3, dim=2)], 2))
        mse = ((recon - video) ** 2).mean(dim=(0, 2, 3, 4))
        segs += torch.stack([10 * torch.log10(1 / mse[s * 40:(s + 1) * 40].mean()) for s in range(len(segs))]) / n_clips
    return dict(frames=frames, n_clips=n_clips, psnr_db_per_40_frames=[round(float(x), 2) for x in segs])


@torch.no_grad()
def decode_speed(vae, chunk: int, n_latent: int = 21, repeats: int = 5, latent_hw: tuple = (8, 8),
                 frames_per_call: int | None = None):
    "Streaming decode speed of random latents [1, C, n_latent, *latent_hw] in chunks of `chunk` latent frames."
    # random latents, as decoding sees: zeros through random weights leave denormal floats that slow every op
    z = torch.randn(1, vae.config.z_dim, n_latent, *latent_hw, generator=torch.Generator().manual_seed(0))
    dec = StreamingVAEDecoder(vae, normalized=True, frames_per_call=frames_per_call)
    for c in z[:, :, :4].split(chunk, 2):                             # warm-up
        dec.decode_chunk(c)
    times, n_frames = [], 0
    for _ in range(repeats):
        dec.reset()
        t0, n_frames = time.perf_counter(), 0
        for c in z.split(chunk, 2):
            n_frames += dec.decode_chunk(c).shape[2]
        times.append(time.perf_counter() - t0)
    best, med = min(times), sorted(times)[len(times) // 2]
    return dict(chunk_latent_frames=chunk, frames_per_call=frames_per_call, frames_per_stream=n_frames,
                fps_best=n_frames / best,
                fps_median=n_frames / med, ms_per_latent_frame_median=1e3 * med / n_latent)


@torch.no_grad()
def encode_speed(vae, repeats: int = 3):
    video = torch.rand(1, 81, 3, 64, 64)
    encode_video(vae, video[:, :9])
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        encode_video(vae, video)
        ts.append(time.perf_counter() - t0)
    return dict(fps_median=81 / sorted(ts)[len(ts) // 2])


def interleaved(cases: dict, rounds: int) -> dict:
    "{name: [result of each round]} of `cases` {name: no-argument function}, the cases taking turns in every round, "
    "so that a slow spell of the shared cores hits each alike."
    runs = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            runs[name].append(case())
    return runs


def unpatched(vae, method: str):
    "A copy of `vae` without the per-module `method` that `onednn_convs` ('_conv_forward', back to PyTorch's own "
    "kernel choice) or `fast_rms_norms` ('forward', back to diffusers' F.normalize) bound to its modules."
    stock = copy.deepcopy(vae)
    for module in stock.modules():
        vars(module).pop(method, None)
    return stock


def main():
    p = argparse.ArgumentParser(prog='python benchmarks/vae.py', description=__doc__.splitlines()[0])
    p.add_argument('--clips', type=int, default=16, help='validation clips to measure PSNR on (default: 16)')
    p.add_argument('--threads', default='1,2', help='comma-separated thread counts to time decode with (default: 1,2)')
    p.add_argument('--rounds', type=int, default=3,
                   help='rounds over all decode cases, interleaved; each reports the median (default: 3)')
    p.add_argument('--random', action='store_true', help='time an untrained toy VAE (no PSNR)')
    p.add_argument('--ckpt', default=str(ROOT / 'data/toy_vae'),
                   help='the toy VAE to measure, without suffix (default: the shipped data/toy_vae)')
    p.add_argument('--out', default=str(ROOT / 'benchmarks/results/vae.json'),
                   help='where to write the JSON (default: benchmarks/results/vae.json)')
    a = p.parse_args()
    ckpt = Path(a.ckpt)
    trained = not a.random and ckpt.with_suffix('.json').exists()
    vae = load_toy_vae(ckpt) if trained else fast_rms_norms(onednn_convs(build_vae(toy_vae_config()).eval()))
    shown_ckpt = ckpt.resolve().relative_to(ROOT) if ckpt.resolve().is_relative_to(ROOT) else ckpt
    res = dict(model=f'toy VAE (AutoencoderKLWan, config in {shown_ckpt}.json)' if trained else 'untrained toy config',
               n_params=sum(p.numel() for p in vae.parameters()),
               n_params_decoder=sum(p.numel() for p in [*vae.decoder.parameters(), *vae.post_quant_conv.parameters()]),
               cpu=platform.processor() or platform.machine(), cpu_count=os.cpu_count(),
               load_avg_at_start=os.getloadavg()[0], torch=torch.__version__,
               goals=dict(psnr_db=30.0, decode_fps=200.0))
    res['decode_stream'] = []
    diffusers_norms = unpatched(vae, 'forward')
    layouts = (('oneDNN', 'sum of squares', vae),                        # load_toy_vae's choices
               ('oneDNN', 'F.normalize', diffusers_norms),
               ('PyTorch default', 'F.normalize', unpatched(diffusers_norms, '_conv_forward')))   # diffusers' own
    # per_call None: a whole chunk per decoder call (the default)
    cases = {(convs, norms, chunk, per_call): partial(decode_speed, model, chunk, repeats=3, frames_per_call=per_call)
             for convs, norms, model in layouts for chunk, per_call in ((1, 1), (3, 1), (3, None))}
    for th in [int(t) for t in a.threads.split(',')]:
        torch.set_num_threads(th)
        for (convs, norms, *_), runs in interleaved(cases, a.rounds).items():
            res['decode_stream'].append(dict(
                runs[0], threads=th, convs=convs, norms=norms, rounds=len(runs),
                fps_best=max(r['fps_best'] for r in runs),
                fps_median=statistics.median(r['fps_median'] for r in runs),
                ms_per_latent_frame_median=statistics.median(r['ms_per_latent_frame_median'] for r in runs)))
    res['encode'] = encode_speed(vae)
    res['threads_for_encode_and_psnr'] = torch.get_num_threads()
    if trained:
        res['val'] = val_psnr(vae, a.clips)
        res['long_stream'] = long_stream_psnr(vae)
    res['load_avg_at_end'] = os.getloadavg()[0]
    res['note'] = ('2 CPU cores, speeds vary with the load average; decode is one stream (fps_median: the median '
                   'over the interleaved rounds of each round\'s median of 3 streams), batch 1, chunks of 1 or 3 '
                   'latent frames (4 or 12 video frames), 64x64, one latent frame per decoder call or a whole chunk '
                   '(frames_per_call null), 3D convolutions through oneDNN (load_toy_vae) or PyTorch\'s own pick, RMS '
                   'norms as a sum of squares (load_toy_vae) or through F.normalize (diffusers).')
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    shown = {k: v for k, v in res.items() if k != 'val'}
    if 'val' in res:
        shown['val'] = {k: v for k, v in res['val'].items() if k != 'per_clip'}
    print(json.dumps(shown, indent=1))


if __name__ == '__main__':
    main()
