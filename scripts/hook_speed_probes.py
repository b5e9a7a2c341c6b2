"""Probes of levers for the 3D hook's cost in a toy DMD step that the project measured and did not adopt.

Writes benchmarks/results/hook_speed_probes.json, all on one thread, each case the best of a few repeats:
  * the toy VGGT's `features` of 12 frames, eager against `torch.compile` (and the first call's compile seconds);
  * one Self-Forcing rollout with the text-fusion hook (7 chunks, the hook's decode and VGGT) for 1 clip against one
    rollout of 5 clips, every chunk at the same exit step: what batching a step's 5 critic rollouts would buy;
  * the same with the recipe's draws: five single rollouts, each at its own uniform exit step, against one batch of
    the five run to the largest of them (a batch can only stop when its last row does), over a few rounds;
  * the shipped toy VAE streaming 6 chunks of 3 latent frames in float32 (`load_toy_vae`) against a bfloat16 copy
    with channels-last convolution weights whose RMS norms take their statistics in float32 (oneDNN runs bf16
    convolutions on AMX where the CPU has it; the JSON says whether it has), and the mean pixel difference.
Run: `.venv/bin/python scripts/hook_speed_probes.py` on an otherwise idle machine (`--only NAME ...` runs some
probes and updates only their entries of the JSON).
"""
import argparse
import copy
import json
import time
import types
from pathlib import Path

import torch
from diffusers.models.autoencoders.autoencoder_kl_wan import WanRMS_norm

from endless_world.checkpoint import write_json
from endless_world.fusion import TextFusionCondition
from endless_world.train.self_forcing import load_dmd_models, make_fusion, self_forcing_rollout
from endless_world.vae import StreamingVAEDecoder

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "hook_speed_probes.json"


def best_seconds(fn, repeats: int = 5) -> float:
    "The fastest of `repeats` calls after one warm-up call."
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@torch.no_grad()
def vggt_compile(vggt) -> dict:
    frames = torch.rand(1, 12, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    eager = best_seconds(lambda: vggt.features(frames), 10)
    compiled = torch.compile(vggt.features)
    start = time.perf_counter()
    out = compiled(frames)
    first_call = time.perf_counter() - start
    return dict(frames=12, eager_ms=1e3 * eager, compiled_ms=1e3 * best_seconds(lambda: compiled(frames), 10),
                compile_s=first_call, max_abs_diff=float((out - vggt.features(frames)).abs().max()))


def hook_rollout(models: dict):
    "(clips, exit_step) -> one 7-chunk rollout of the student with the text-fusion hook, every chunk at that exit."
    generator, extractor, vae = models["generator"], models["extractor"], models["vae"]
    feat_dim = extractor.features(torch.zeros(1, 1, 3, 64, 64)).shape[2]        # f3D's channels, as training reads
    fusion = make_fusion("text", feat_dim, generator.config.text_dim, generator.config.in_channels)

    @torch.no_grad()
    def rollout(clips: int, exit_step: int):
        hook = TextFusionCondition(fusion, extractor, 12)
        self_forcing_rollout(generator, models["context"][:clips], 7, 8, 8, rng=torch.Generator().manual_seed(0),
                             condition=hook, decoder=StreamingVAEDecoder(vae, normalized=True),
                             exit_steps=[exit_step] * 7)
    return rollout


def batched_rollouts(models: dict, exit_step: int = 3) -> dict:
    rollout = hook_rollout(models)
    one, five = best_seconds(lambda: rollout(1, exit_step), 3), best_seconds(lambda: rollout(5, exit_step), 3)
    return dict(exit_step=exit_step, one_clip_s=one, five_clips_s=five, five_clips_over_five_single=five / (5 * one))


def batched_random_exits(models: dict, rounds: int = 6, seed: int = 1) -> dict:
    "Five 1-clip rollouts at their own uniform exit steps against one 5-clip rollout to the largest, per round."
    rollout = hook_rollout(models)

    def seconds(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    rollout(1, 3), rollout(5, 3)                                       # warm-up
    draws, singles, batched = torch.Generator().manual_seed(seed), [], []
    for _ in range(rounds):
        exits = torch.randint(4, (5,), generator=draws).tolist()
        singles.append(seconds(lambda: [rollout(1, e) for e in exits]))        # noqa: B023 (called at once)
        batched.append(seconds(lambda: rollout(5, max(exits))))                # noqa: B023
    return dict(rounds=rounds, five_single_s=singles, one_batch_to_max_exit_s=batched,
                batch_over_singles=sum(batched) / sum(singles))


def _bf16_rms_norm(self, x: torch.Tensor) -> torch.Tensor:
    "RMS norm of a bf16 input with the sum of squares in float32."
    sum_of_squares = x.float().square().sum(1 if self.channel_first else -1, keepdim=True)
    return x * torch.rsqrt(sum_of_squares.clamp_min(1e-24)).to(x.dtype) * (self.scale * self.gamma) + self.bias


def bf16_copy(vae):
    "A bfloat16 copy of `vae` with channels-last convolution weights and float32 norm statistics."
    fast = copy.deepcopy(vae).bfloat16()
    for module in fast.modules():
        if isinstance(module, torch.nn.Conv3d):
            module.weight.data = module.weight.data.contiguous(memory_format=torch.channels_last_3d)
        if isinstance(module, WanRMS_norm):
            module.forward = types.MethodType(_bf16_rms_norm, module)
    return fast


@torch.no_grad()
def bf16_decode(vae) -> dict:
    latents = torch.randn(1, vae.config.z_dim, 18, 8, 8, generator=torch.Generator().manual_seed(0))

    def stream(model, dtype):
        decoder = StreamingVAEDecoder(model, normalized=True)
        chunks = [decoder.decode_chunk(c.to(dtype).contiguous(memory_format=torch.channels_last_3d)
                                       if dtype == torch.bfloat16 else c) for c in latents.split(3, dim=2)]
        return torch.cat(chunks, dim=2).float()
    fast = bf16_copy(vae)
    ref, low = stream(vae, torch.float32), stream(fast, torch.bfloat16)
    diff = (low - ref).abs()
    return dict(latent_frames=18, frames=ref.shape[2],
                float32_ms=1e3 * best_seconds(lambda: stream(vae, torch.float32)),
                bf16_channels_last_ms=1e3 * best_seconds(lambda: stream(fast, torch.bfloat16)),
                mean_abs_pixel_diff=float(diff.mean()), max_abs_pixel_diff=float(diff.max()), pixel_range="[-1, 1]",
                cpu_has_amx=bool(torch.cpu._is_amx_tile_supported()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(OUT), help="where the JSON goes (default: "
                        "benchmarks/results/hook_speed_probes.json)")
    probes = dict(vggt_compile=lambda m: vggt_compile(m["extractor"]), batched_rollouts=batched_rollouts,
                  batched_random_exits=batched_random_exits, bf16_decode=lambda m: bf16_decode(m["vae"]))
    parser.add_argument("--only", nargs="+", choices=list(probes), help="run these probes and update only their "
                        "entries of an existing JSON (default: all, a new JSON)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = load_dmd_models("data/toy_student_ode.safetensors", "data/toy_teacher.safetensors", True, 8)
    result = json.loads(Path(args.out).read_text()) if args.only and Path(args.out).exists() else {}
    when = result.pop("measured_at", None)            # a JSON from before per-probe times: its time goes to each
    for value in result.values():
        if isinstance(value, dict) and when:
            value.setdefault("measured_at", when)
    result.update(threads=1, torch=torch.__version__)
    for name in args.only or probes:
        result[name] = dict(probes[name](models), measured_at=time.strftime("%Y-%m-%d %H:%M"))
    write_json(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
