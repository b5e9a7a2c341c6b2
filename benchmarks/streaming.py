"""Streaming benchmark at the toy config (64×64 video -> 8×8×8 latents, toy DiT).

Writes benchmarks/results/streaming.json.

Measures, with the paper's long/short context schedule (1 sink + 17 / 1 sink + 1 latent neighbours, alternating):
  * per-chunk latency at chunk 1,000 over chunk 10 (means over 20 chunks from each; goal <= 1.05),
  * peak memory (process max RSS), KV-cache bytes and the cache's allocated bytes at chunk 1,000 over chunk 10,
  * the optimised inference path (cached keys rotated once per chunk, buffers written in place, the text's
    keys/values once per prompt) against the unoptimised reference path, two streams interleaved chunk by chunk
    in this process (so that both see the same machine load), with their outputs compared,
  * KV-cache streaming versus recomputing the whole window each denoising call (no cache; speedup),
  * analytically at full scale (Wan2.1-1.3B, 832×480): FLOPs per chunk and the FPS ceiling on one H100 (990 TFLOP/s).
Run: `.venv/bin/python benchmarks/streaming.py [--chunks 1020] [--threads 1]`
"""
import argparse
import json
import os
import platform
import resource
import statistics
import time

import torch

from endless_world.checkpoint import write_json
from endless_world.dit import WAN_T2V_1P3B_CONFIG, CausalWanDiT, toy_dit_config
from endless_world.sampler import sample_noise
from endless_world.streaming import ContextSchedule, StreamingGenerator, streaming_chunk_flops

REFERENCE = dict(preallocate=False, reuse_reads=False, cache_text=False)   # the unoptimised inference path


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_step(stream) -> float:
    "Seconds one chunk of `stream` takes."
    start = time.perf_counter()
    stream.step()
    return time.perf_counter() - start


def window_mean(xs, start: int, n: int = 20) -> float:
    "Mean of `n` values from `start` (10 long + 10 short context chunks)."
    return statistics.mean(xs[start:start + n])


@torch.no_grad()
def recompute_chunk(model, window, noise, context, sampler, generator):
    "One chunk without a KV cache: every denoising call re-runs the whole window (clean, t=0) + the noisy chunk."
    B, k = noise.shape[0], noise.shape[2]
    nw = window.shape[2]
    x = noise
    for i, t in enumerate(sampler.timesteps):
        ts = torch.cat([torch.zeros(B, nw), t.expand(B, k)], dim=1)
        flow = model(torch.cat([window, x], 2), ts, context, attention="bidirectional")[:, :, nw:]
        x0 = sampler.x0_from_flow(x, flow, sampler.sigmas[i].item())
        if i + 1 < len(sampler):
            x = sampler.renoise(x0, i + 1, sample_noise(x0.shape, generator, x0.dtype, x0.device))
    return x0


def optimised_vs_reference(model, context, schedule, chunks: int = 60, skip: int = 10) -> dict:
    "Two streams, the optimised and the reference path, interleaved chunk by chunk: ms per chunk and agreement."
    streams = {name: StreamingGenerator(model, context, 8, 8, schedule=schedule, seed=5, cache_options=options)
               for name, options in (("optimised", {}), ("reference", REFERENCE))}
    seconds = {name: [] for name in streams}
    outputs = {name: [] for name in streams}
    with torch.no_grad():
        for _ in range(chunks):
            for name, stream in streams.items():
                start = time.perf_counter()
                outputs[name].append(stream.step())
                seconds[name].append(time.perf_counter() - start)
    ms = {name: 1e3 * statistics.mean(s[skip:]) for name, s in seconds.items()}
    diff = max((a - b).abs().max().item() for a, b in zip(outputs["optimised"], outputs["reference"], strict=True))
    return dict(optimised_ms_mean=ms["optimised"], reference_ms_mean=ms["reference"],
                speedup=ms["reference"] / ms["optimised"], max_abs_diff=diff, chunks=chunks, skipped=skip,
                allocated_bytes=dict(optimised=streams["optimised"].cache.allocated_nbytes(),
                                     reference=streams["reference"].cache.allocated_nbytes()),
                note="interleaved chunk by chunk in one process; means over chunks skip..chunks-1")


def main(chunks: int = 1020, threads: int = 1, out: str = "benchmarks/results/streaming.json",
         recompute_chunks: int = 20):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = toy_dit_config()
    model = CausalWanDiT(**cfg).eval()
    context = torch.randn(1, 16, cfg["text_dim"])
    schedule = ContextSchedule.from_video_frames()
    sg = StreamingGenerator(model, context, 8, 8, schedule=schedule, seed=0)

    # 1. one long stream: latency and memory at chunk 10 and at chunk 1000
    lat, marks = [], {}
    with torch.no_grad():
        for i in range(chunks):
            lat.append(timed_step(sg))
            if i + 1 in (10, 20, 1000) or i + 1 == chunks:
                marks[i + 1] = dict(max_rss_mb=max_rss_mb(), cache_bytes=sg.cache.nbytes(),
                                    cache_allocated_bytes=sg.cache.allocated_nbytes(),
                                    cached_frames=sg.cache.num_frames)
    a, b = 10, min(1000, chunks - 20)
    lat10, lat1000 = window_mean(lat, a), window_mean(lat, b)
    # the machine is shared: re-measure chunks 10-29 of a fresh stream right now, next to the chunk-1000 measurement
    fresh = StreamingGenerator(model, context, 8, 8, schedule=schedule, seed=1)
    with torch.no_grad():
        lat_fresh = [timed_step(fresh) for _ in range(30)]
    lat10_fresh = window_mean(lat_fresh, 10)

    # 2. the optimised inference path against the unoptimised reference, side by side
    paths = optimised_vs_reference(model, context, schedule)

    # 3. KV-cache streaming against recomputing the window at every denoising call
    speed = {}
    for hw in (8, 16):      # 64×64 and 128×128 video: the cache's advantage grows with tokens per frame
        sg2 = StreamingGenerator(model, context, hw, hw, schedule=schedule, seed=0)
        with torch.no_grad():
            for _ in range(8):
                sg2.step()                                    # fill the window (18 frames)
        cached_t, recompute_t = [], []
        with torch.no_grad():
            for _ in range(recompute_chunks):
                sg2.cache.set_context(sg2.schedule.neighbours(sg2.chunk_index))
                frames = sg2.cache.absolute_frames[sg2.cache.read_frames()].tolist()
                window = torch.stack([sg2.latents[f] for f in frames], 2)
                noise = torch.randn(1, cfg["in_channels"], 3, hw, hw)
                start = time.perf_counter()
                recompute_chunk(model, window, noise, sg2.context, sg2.sampler, sg2.generator)
                recompute_t.append(time.perf_counter() - start)
                cached_t.append(timed_step(sg2))
        speed[f"latent_{hw}x{hw}"] = dict(cached_ms_mean=1e3 * statistics.mean(cached_t),
                                          recompute_ms_mean=1e3 * statistics.mean(recompute_t),
                                          speedup=statistics.mean(recompute_t) / statistics.mean(cached_t),
                                          chunks=recompute_chunks)

    flops = streaming_chunk_flops(WAN_T2V_1P3B_CONFIG, schedule)
    last = marks[1000 if 1000 in marks else chunks]
    res = dict(
        config=dict(toy_dit=cfg, latent_hw=[8, 8], video_hw=[64, 64], chunk_size=3, steps=sg.sampler.timesteps.tolist(),
                    schedule=dict(sink=schedule.sink, long=schedule.long, short=schedule.short,
                                  pattern=list(schedule.pattern)),
                    chunks=chunks, threads=threads, machine=platform.processor() or platform.machine(),
                    load_average_at_end=os.getloadavg()),
        latency_ms=dict(chunk10_mean=1e3 * lat10, chunk1000_mean=1e3 * lat1000, ratio_1000_over_10=lat1000 / lat10,
                        fresh_stream_chunk10_mean=1e3 * lat10_fresh, ratio_1000_over_fresh_10=lat1000 / lat10_fresh,
                        goal="<= 1.05", measured_at_chunk=b,
                        note="means over 20 chunks (10 long + 10 short context); the fresh-stream figure is measured "
                             "right after chunk 1000, under the same machine load"),
        memory=dict(marks={str(k): v for k, v in marks.items()},
                    peak_rss_ratio_1000_over_10=last["max_rss_mb"] / marks[10]["max_rss_mb"],
                    cache_bytes_ratio_1000_over_10=last["cache_bytes"] / marks[10]["cache_bytes"],
                    cache_allocated_ratio_1000_over_10=last["cache_allocated_bytes"]
                    / marks[10]["cache_allocated_bytes"],
                    note="RSS = the process's running peak; the window is full from chunk 6; cache_bytes = the cached "
                         "tokens, cache_allocated_bytes = the buffers (the window + one chunk, and the rotated reads)"),
        optimised_vs_reference=paths,
        kv_cache_vs_recompute=dict(**speed, note="recompute = no cache: each of the 4 denoising calls runs the window "
                                   "the chunk reads + the chunk (full attention); cached = the streaming generator's "
                                   "chunk (5 calls)"),
        full_scale_analytic=dict(model="Wan2.1-T2V-1.3B", resolution="832x480", tokens_per_latent_frame=1560,
                                 tflop_per_chunk={k: v / 1e12 for k, v in flops.items()},
                                 fps_ceiling_h100_990tflops={k: 990e12 / v * 12 for k, v in flops.items()},
                                 note="12 video frames per 3-latent-frame chunk; 5 calls per chunk (4 steps + cache "
                                      "write)"),
    )
    write_json(out, res)
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=1020, help="chunks of the long stream (default: 1020)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    ap.add_argument("--recompute-chunks", type=int, default=20,
                    help="chunks timed for cached vs recompute (default: 20)")
    ap.add_argument("--out", default="benchmarks/results/streaming.json", help="where the JSON goes")
    args = ap.parse_args()
    main(args.chunks, args.threads, args.out, args.recompute_chunks)
