"""Rendering speed of the Endless Toy World: frames/s at 64x64 and 832x480, written as JSON, and at 64x64 how the
batch size (`World.render`'s `batch_pixels`) and the thread count change it, the cases interleaved over rounds.

    python benchmarks/world.py            # -> benchmarks/results/world.json
"""
import argparse
import json
import os

# Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning threads
# steal the core the other thread needs (measured: 192 vs 732 frames/s at 64x64 under load).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import platform
import statistics
import time
from pathlib import Path

import torch

from endless_world.world import World, default_batch_pixels, frame_times


def frames_per_second(world: World, size, n_frames: int, repeats: int = 3, **render_options) -> dict:
    world.render(frame_times(min(n_frames, 8)), size)  # warm-up
    wall, cpu = [], []
    for r in range(repeats):
        times = frame_times(n_frames, start=10.0 * (r + 1))
        t0, c0 = time.perf_counter(), time.process_time()
        world.render(times, size, **render_options)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    best = min(wall)
    return dict(size=list(size), frames=n_frames, best_wall_s=round(best, 4), frames_per_s=round(n_frames / best, 1),
                frames_per_cpu_s=round(n_frames / min(cpu), 1))


def batch_sweep(world: World, exponents, thread_counts, rounds: int, n_frames: int = 1024) -> list:
    "64x64 frames/s for each (threads, batch_pixels = 2**e), every case once per round (the machine drifts)."
    cases = [(threads, e) for threads in thread_counts for e in exponents]
    per_case = {case: [] for case in cases}
    for _ in range(rounds):
        for threads, e in cases:
            torch.set_num_threads(threads)
            per_case[threads, e].append(frames_per_second(world, (64, 64), n_frames, repeats=1,
                                                          batch_pixels=1 << e)["frames_per_s"])
    return [dict(threads=threads, batch_pixels=1 << e, frames_per_batch=(1 << e) // (64 * 64),
                 frames_per_s_per_round=runs, median_frames_per_s=statistics.median(runs))
            for (threads, e), runs in per_case.items()]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "world.json"),
                        help="where the JSON goes")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--batch-exponents", type=int, nargs="*", default=[18, 19, 20, 21],
                        help="the sweep's batch sizes, as powers of two of pixels (none: no sweep)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the sweep")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    world = World(0)
    result = dict(
        benchmark="world rendering", threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(), omp_wait_policy=os.environ["OMP_WAIT_POLICY"],
        load_average_1min=round(os.getloadavg()[0], 2), torch=torch.__version__,
        goal="≥ 1,000 frames/s at 64x64 on 2 cores",
        results=[frames_per_second(world, (64, 64), 1024), frames_per_second(world, (480, 832), 16)],
        batch_pixels_default=default_batch_pixels(),              # at --threads
    )
    if args.batch_exponents:
        result["batch_sweep"] = batch_sweep(world, args.batch_exponents, sorted({1, args.threads}), args.rounds)
        torch.set_num_threads(args.threads)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
