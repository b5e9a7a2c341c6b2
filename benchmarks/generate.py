"""End-to-end streaming benchmark of `endless-world generate` at toy scale: writes benchmarks/results/generate.json.

The whole loop of `generate_video_file` — prompt -> text embeddings -> causal DiT (4 steps + the t = 0 cache write,
attention sink, long/short contexts) -> streaming VAE decode -> H.264 mp4 written frame by frame — by default with
the shipped toy Endless World generator (data/toy_generator_detach_text3d: text-level 3D fusion, the frozen toy VGGT
on the newest 12 frames before each chunk), or `--checkpoint stand-in`: a randomly initialised `CausalWanDiT` at the
toy teacher's size (dim 128, 4 layers, `TEACHER_ARCH`; the same shapes and calls, so the same cost). Measures:
  * end-to-end FPS (frames written per wall second, VAE decode and writing included; goal >= 64 = 4x real time),
  * time to first frame (from the stream's start; model loading separately),
  * per-chunk latency in minute 1 and minute N of the video (N = --minutes, 10 by default; goal: ratio <= 1.05).
    On a shared machine the load changes over minutes, so the ratio is also measured *paired*: a second stream is
    advanced to minute N, then its chunks alternate with a fresh stream's minute-1 chunks, under the same load,
  * memory (resident set size) after every chunk: its median and maximum over minute 1 and over minute N, the
    process's peak,
  * the same loop with text-level 3D fusion (the frozen toy VGGT on the newest 12 frames before each chunk, a
    stand-in `TextFusion3D` with a non-zero zero conv) for --fusion-minutes.
Run: `.venv/bin/python benchmarks/generate.py [--minutes 10] [--threads 2] [--fusion-minutes 1] [--note TEXT]`
"""
import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from endless_world.checkpoint import write_json
from endless_world.fusion import TextFusion3D, save_fusion
from endless_world.generate import (EXAMPLE_PROMPT, GENERATOR_FILE, VideoStreamWriter, build_stream, encode_prompt,
                                    fusion_for, generate_video_file, generator_meta, generator_path, latent_size,
                                    load_generator, rss_mb, save_random_generator, stream_frames)
from endless_world.media import to_video_array
from endless_world.text import load_toy_text_encoder
from endless_world.vae import load_toy_vae
from endless_world.train.teacher import TEACHER_ARCH


def timed_stream(seconds, out, checkpoint, **options):
    "Run `generate_video_file`; returns its summary and per chunk (start frame, latency ms, RSS MiB)."
    chunks = []

    def record(frames, info):
        chunks.append((info["frames"] - len(frames), 1e3 * info["latency_s"], rss_mb()))

    summary = generate_video_file(EXAMPLE_PROMPT, seconds, out, checkpoint=checkpoint, progress=False,
                                  preview=record, **options)
    return summary, chunks


def minute_stats(chunks, minute, fps=16):
    "Latency (mean, median over the chunks starting in video minute `minute`, 1-based; chunk 0 left out) and RSS."
    lo, hi = (minute - 1) * 60 * fps, minute * 60 * fps
    inside = [c for i, c in enumerate(chunks) if lo <= c[0] < hi and i > 0]
    lat = [c[1] for c in inside]
    rss = [c[2] for c in inside]
    return dict(chunks=len(lat), latency_ms_mean=statistics.fmean(lat), latency_ms_median=statistics.median(lat),
                rss_mb_at_end=rss[-1], rss_mb_min=min(rss), rss_mb_median=statistics.median(rss), rss_mb_max=max(rss))


def paired_latency(checkpoint, minute, folder, fps=16, frames_per_chunk=12):
    "Chunk latencies (ms) of a stream at video minute `minute` and of a fresh one's minute 1, chunk by chunk in turn."
    text = load_toy_text_encoder()
    context = encode_prompt(text, EXAMPLE_PROMPT)
    model, meta = load_generator(checkpoint)
    vae = load_toy_vae()
    chunks_per_minute = 60 * fps // frames_per_chunk                        # 80
    old = stream_frames(build_stream(model, context, vae, latent_size(meta, vae), seed=0))
    with VideoStreamWriter(folder / "old.mp4", fps) as writer:
        for _ in range((minute - 1) * chunks_per_minute):                    # to the start of minute `minute`
            writer.write(to_video_array(next(old)))
        fresh = stream_frames(build_stream(model, context, vae, latent_size(meta, vae), seed=1))
        latencies = {"old": [], "fresh": []}
        with VideoStreamWriter(folder / "fresh.mp4", fps) as fresh_writer:
            for i in range(chunks_per_minute):
                pair = [("old", old, writer), ("fresh", fresh, fresh_writer)]
                for name, stream, out in (pair if i % 2 else pair[::-1]):  # alternate who goes first
                    t0 = time.perf_counter()
                    out.write(to_video_array(next(stream)))
                    latencies[name].append(1e3 * (time.perf_counter() - t0))
    old_ms, fresh_ms = latencies["old"], latencies["fresh"][1:]             # the fresh stream's chunk 0 left out
    return dict(chunks=len(old_ms), **{f"minute_{minute}_ms_median": statistics.median(old_ms),
                                       f"minute_{minute}_ms_mean": statistics.fmean(old_ms)},
                fresh_minute_1_ms_median=statistics.median(fresh_ms), fresh_minute_1_ms_mean=statistics.fmean(fresh_ms),
                ratio_median=statistics.median(old_ms) / statistics.median(fresh_ms),
                ratio_mean=statistics.fmean(old_ms) / statistics.fmean(fresh_ms),
                note=f"one stream advanced to minute {minute} (chunk {(minute - 1) * chunks_per_minute}), then its "
                     f"next {chunks_per_minute} chunks alternate with a fresh stream's first {chunks_per_minute} "
                     "(its chunk 0 left out): both see the same machine load; generation, decode and writing timed")


def main(checkpoint=None, minutes=10.0, threads=2, fusion_minutes=1.0, out="benchmarks/results/generate.json", note=""):
    torch.set_num_threads(threads)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        if checkpoint == "stand-in":
            checkpoint = save_random_generator(d / "standin", **TEACHER_ARCH)
        checkpoint = generator_path(checkpoint)              # None: the shipped Endless World generator
        meta = generator_meta(checkpoint)                     # the JSON only: the runs load the model
        has_fusion = fusion_for(meta, checkpoint) is not None
        # 1. the long stream
        t0 = time.perf_counter()
        summary, chunks = timed_stream(minutes * 60, d / "stream.mp4", checkpoint)
        wall = time.perf_counter() - t0
        last = max(2, int(minutes))                  # the last whole minute of video (minute 2 at least)
        if minutes < last:
            raise SystemExit(f"--minutes {minutes}: needs >= 2 minutes of video to compare minute 1 with a later one")
        first_min, last_min = minute_stats(chunks, 1), minute_stats(chunks, last)
        # 2. minute `last` against minute 1, paired: the same machine load for both
        paired = paired_latency(checkpoint, last, d)
        # 3. the other side of the 3D branch: off for a generator with fusion, a stand-in fusion for one without
        fusion_result = None
        if fusion_minutes > 0:
            if has_fusion:
                options, what = dict(fusion_strength=0.0), "the same generator with its 3D branch off (no VGGT)"
            else:
                fusion = TextFusion3D(feat_dim=128, text_dim=64)
                torch.nn.init.normal_(fusion.zero_conv.weight, std=0.02)     # as if trained: the 3D term is not zero
                options = dict(fusion=save_fusion(d / "fusion", fusion, last_frames=12))
                what = ("stand-in TextFusion3D (hidden 128) + the shipped frozen toy VGGT on the newest 12 decoded "
                        "frames before each chunk")
            other, other_chunks = timed_stream(fusion_minutes * 60, d / "other.mp4", checkpoint, **options)
            fusion_result = dict(video_minutes=fusion_minutes, end_to_end_fps=other["achieved_fps"],
                                 time_to_first_frame_s=other["time_to_first_frame_s"],
                                 chunk_latency_ms=other["chunk_latency_ms"], minute_1=minute_stats(other_chunks, 1),
                                 note=what)
    load_after = os.getloadavg()
    res = dict(
        config=dict(generator=str(checkpoint), kind=meta.get("kind"), variant=meta.get("variant"),
                    with_3d_fusion=has_fusion, latent=list(meta.get("latent_shape", [])), video=[64, 64],
                    fps=summary["fps"], chunk_latent_frames=3, frames_per_chunk=12, steps=4, context=summary["context"],
                    threads=threads, video_minutes=minutes, machine=platform.processor() or platform.machine(),
                    cpus=os.cpu_count()),
        machine_load=dict(loadavg_1_5_15_before=load_before, loadavg_1_5_15_after=load_after,
                          note=note or "the load averages say how busy the machine was (2 cores: above ~1 means "
                                       "other jobs competed)"),
        end_to_end_fps=summary["achieved_fps"], goal_fps=64, realtime_factor=summary["realtime_factor"],
        time_to_first_frame_s=summary["time_to_first_frame_s"], load_s=summary["load_s"],
        frames=summary["frames"], chunks=summary["chunks"], wall_s=wall, chunk_latency_ms=summary["chunk_latency_ms"],
        latency=dict(minute_1=first_min, **{f"minute_{last}": last_min},
                     ratio_mean=last_min["latency_ms_mean"] / first_min["latency_ms_mean"],
                     ratio_median=last_min["latency_ms_median"] / first_min["latency_ms_median"],
                     paired=paired, goal="<= 1.05",
                     note="minute_1 / minute_N: chunks starting in that minute of the one long stream (chunk 0 left "
                          "out), minutes apart, so machine load changes between them; `paired` compares them under "
                          "the same load"),
        memory=dict(**{f"rss_mb_minute_{m}": {k: stats[f"rss_mb_{k}"] for k in ("min", "median", "max")}
                       for m, stats in ((1, first_min), (last, last_min))},
                    rss_ratio_median=last_min["rss_mb_median"] / first_min["rss_mb_median"],
                    rss_ratio_max=last_min["rss_mb_max"] / first_min["rss_mb_max"], goal="<= 1.05",
                    peak_rss_mb=summary["peak_rss_mb"],
                    rss_by_minute_mb=summary["rss_by_minute_mb"],
                    rss_by_minute_max_mb=[minute_stats(chunks, m)["rss_mb_max"] for m in range(1, last + 1)],
                    note="RSS sampled after every chunk: within any minute it swings by ~60 MB as the allocator "
                         "takes and returns pages, so a single sample (rss_by_minute_mb: the minute's last chunk) "
                         "is noise; the ratios compare each minute's median and maximum over its 80 chunks"),
        latency_by_minute_ms=summary["latency_by_minute_ms"],
        **{"without_3d_branch" if has_fusion else "with_text_fusion": fusion_result},
    )
    write_json(out, res)
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None,
                    help=f"generator checkpoint, or 'stand-in' for a random one (default: data/{GENERATOR_FILE})")
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes of video in the long stream (default: 10)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default: 2, the toy budget's cores)")
    ap.add_argument("--fusion-minutes", type=float, default=1.0,
                    help="minutes of video with the 3D branch switched (off for a generator with fusion, a stand-in "
                         "fusion for one without; default: 1; 0 skips it)")
    ap.add_argument("--note", default="", help="how the machine was (default: read the load averages)")
    ap.add_argument("--out", default="benchmarks/results/generate.json", help="where the JSON goes")
    a = ap.parse_args()
    main(a.checkpoint, a.minutes, a.threads, a.fusion_minutes, a.out, a.note)
