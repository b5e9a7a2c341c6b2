"""Streaming speed of this project's causal DiT next to Self-Forcing's `CausalWanModel`, in one process.

Usage (a GPU machine, the project and its dependencies installed or on PYTHONPATH):

    python benchmarks/gpu_stream.py --self-forcing PATH/TO/Self-Forcing --out gpu_stream.json [--compile] [--vae] \
        [--vggt] [--overlap]

Smoke test on the CPU (a tiny config, no peer unless a checkout is given; takes well under a minute):

    python benchmarks/gpu_stream.py --device cpu --tiny --vae --vggt --overlap --out /tmp/gpu_stream_tiny.json

Random weights (speed does not depend on them), bf16 on a GPU, float32 on the CPU. Self-Forcing's inference protocol:
Wan2.1-T2V-1.3B at 832x480 (60x104 latents, 1560 tokens per latent frame), chunks of 3 latent frames (12 video
frames), 4 denoising steps + the clean re-run at t = 0 per chunk. Measured, each after a warm-up run:

  peer_kv         Self-Forcing's CausalWanModel, 7 chunks with its KV cache and cross-attention cache
  project_kv      CausalWanDiT + KVCache + denoise_chunk, the same 7 chunks, optimised (the default cache)
  project_kv_ref  the same with the unoptimised reference path (cat per call, every key rotated at every call,
                  the text projected at every call): what the optimisations buy, on this machine
  peer_stream     the peer with its own attention sink and rolling window (sink 1 + 21 frames), --chunks chunks
  project_stream  StreamingGenerator (sink 1, long 17 / short 1 alternating), optimised and reference, steady state
  compiled        (--compile) the optimised stream and the 7 chunks with torch.compile(model) (--compile-mode:
                  e.g. reduce-overhead, CUDA graphs)
  vae             (--vae) the Wan VAE's streaming decode of 3-latent-frame chunks, step by step faster: plain,
                  + cuDNN's autotuner, + channels-last 3D weights, + a whole chunk per decoder call
                  (endless_world.realtime.fast_decoder), + torch.compile (--compile-vae); each one's frames against
                  plain's, and the end-to-end FPS each would give after the eager DiT stream (sequential)
  vggt            (--vggt) VGGT-1B's features (random weights, float32 under bf16 autocast) of 1 / 4 / 12 frames at
                  518x294, beside their FLOP count (endless_world.realtime.vggt_features_flops)
  stream_3d       (--vggt) the sink stream with the 3D branch in the loop (TextFusionCondition on VGGT-1B, the chosen
                  cadence REALTIME_CADENCE: the newest 4 frames at 518x294, every 4 chunks) and the Wan VAE decode,
                  sequential, per chunk DiT / 3D / decode seconds; stream_3d_every1: VGGT before every chunk;
                  stream_plain: the same loop without the 3D branch
  overlap         (--overlap) end-to-end FPS as a player receives the chunks: the sequential loop against the decode
                  overlapped with the next chunk's DiT on a second CUDA stream (stream_decoded), without and with the
                  3D branch at the chosen cadence, and max |overlapped - sequential| of the frames
  agreement       max |optimised - reference| of the project's outputs (bf16 on a GPU: expected 0)

With --fast the 3D loop and the overlap run the fast decoder (compiled with --compile-vae) and, with --compile,
the compiled DiT: the fastest configuration end to end.

Self-Forcing is read from a checkout (only its `wan/` folder); where flash-attn is not importable, its attention
calls are replaced by the same math through PyTorch SDPA (as this project's default). The JSON is rewritten after
every section, so a run cut short keeps what it measured.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from endless_world.checkpoint import write_json  # noqa: E402
from endless_world.dit import WAN_T2V_1P3B_CONFIG, CausalWanDiT, KVCache, cast_dit, toy_dit_config  # noqa: E402
from endless_world.sampler import FewStepSampler, denoise_chunk, sample_noise  # noqa: E402
from endless_world.streaming import ContextSchedule, StreamingGenerator  # noqa: E402
from endless_world.realtime import (REALTIME_CADENCE, AutocastFeatures, clock_loop, fast_decoder,  # noqa: E402
                                    steady_rows, stream_decoded, timed_chunks, vggt_features_flops, vggt_input_size)

REFERENCE = dict(preallocate=False, reuse_reads=False, cache_text=False)   # the unoptimised path
CHUNK, KV_CHUNKS = 3, 7                      # Self-Forcing: 7 chunks of 3 latent frames = 21 latent frames
STEPS = [1000.0, 937.5, 833.3333, 625.0]     # the warped timesteps of the few-step sampler
VIDEO_FRAMES_PER_CHUNK = 4 * CHUNK           # the Wan VAE: 4 video frames per latent frame


def scale(tiny: bool) -> dict:
    "The two configs, the peer's (original Wan names) and the project's (diffusers names), and the latent grid."
    if tiny:
        peer = dict(dim=64, ffn_dim=192, freq_dim=64, text_dim=64, num_heads=4, num_layers=2, text_len=16)
        project = toy_dit_config(latent_channels=16, dim=64, num_layers=2, num_heads=4, text_dim=64, freq_dim=64)
        return dict(peer=peer, project=project, latent_hw=(8, 8), text_len=16)
    peer = dict(dim=1536, ffn_dim=8960, freq_dim=256, text_dim=4096, num_heads=12, num_layers=30, text_len=512)
    return dict(peer=peer, project=dict(WAN_T2V_1P3B_CONFIG), latent_hw=(60, 104), text_len=512)


def sync(device: str):
    "Wait for the GPU, so that a wall-clock interval covers the work."
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, fn, *args, **kwargs):
    "(seconds `fn(*args, **kwargs)` takes, synchronised; what it returned)."
    sync(device)
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    sync(device)
    return time.perf_counter() - start, out


def load_peer(root: Path):
    "Self-Forcing's `CausalWanModel` class from a checkout, its flash-attention calls through SDPA if need be."
    for name in ("wan", "wan.modules"):
        package = types.ModuleType(name)
        package.__path__ = []
        sys.modules[name] = package

    def load(name, relative):
        spec = importlib.util.spec_from_file_location(name, root / relative)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    def sdpa(q, k, v, *args, **kwargs):          # [B, L, H, D] in and out, as the peer's flash_attention
        out = torch.nn.functional.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                                               v.transpose(1, 2))
        return out.transpose(1, 2)

    has_flash = importlib.util.find_spec("flash_attn") is not None
    attention = load("wan.modules.attention", "wan/modules/attention.py")
    if not has_flash:
        attention.attention = attention.flash_attention = sdpa
    load("wan.modules.model", "wan/modules/model.py")
    causal = load("wan.modules.causal_model", "wan/modules/causal_model.py")
    if not has_flash:
        causal.attention = causal.flash_attention = sdpa
    return causal.CausalWanModel, ("flash-attn" if has_flash else "sdpa")


def peer_model(cls, cfg: dict, device: str, dtype, local_attn_size: int = -1, sink_size: int = 0):
    "A randomly initialised peer at this config."
    with torch.device(device):
        model = cls(model_type="t2v", patch_size=(1, 2, 2), in_dim=16, out_dim=16, local_attn_size=local_attn_size,
                    sink_size=sink_size, qk_norm=True, cross_attn_norm=True, eps=1e-6, **cfg)
    return model.to(dtype).eval().requires_grad_(False)


@torch.no_grad()
def run_peer(model, cfg: dict, sc: dict, device: str, dtype, chunks: int, cache_frames: int) -> list[float]:
    "The peer's own protocol: per chunk 4 steps + the clean re-run, its KV and cross-attention caches."
    (lh, lw), tpf = sc["latent_hw"], sc["latent_hw"][0] * sc["latent_hw"][1] // 4
    heads, head_dim = cfg["num_heads"], cfg["dim"] // cfg["num_heads"]

    def zeros(n):
        return torch.zeros(1, n, heads, head_dim, device=device, dtype=dtype)

    kv = [dict(k=zeros(cache_frames * tpf), v=zeros(cache_frames * tpf),
               global_end_index=torch.tensor([0], device=device), local_end_index=torch.tensor([0], device=device))
          for _ in range(cfg["num_layers"])]
    cross = [dict(k=zeros(sc["text_len"]), v=zeros(sc["text_len"]), is_init=False) for _ in range(cfg["num_layers"])]
    context = torch.randn(1, sc["text_len"], cfg["text_dim"], device=device, dtype=dtype)
    seconds = []
    for c in range(chunks):
        x = torch.randn(1, 16, CHUNK, lh, lw, device=device, dtype=dtype)
        seconds.append(timed(device, peer_chunk, model, x, context, kv, cross, c * CHUNK * tpf,
                             cache_frames * tpf)[0])
    return seconds


def peer_chunk(model, x, context, kv, cross, current_start: int, seq_len: int):
    "One chunk of the peer: 4 denoising calls and the clean re-run (inputs reused: speed only)."
    for t in STEPS + [0.0]:
        model(x, t=torch.full((1, CHUNK), t, device=x.device), context=context, seq_len=seq_len, kv_cache=kv,
              crossattn_cache=cross, current_start=current_start)


@torch.no_grad()
def run_project_kv(model, sc: dict, device: str, dtype, options: dict, chunks: int = KV_CHUNKS):
    "CausalWanDiT + KVCache + denoise_chunk over `chunks` chunks: per-chunk seconds and the clean latents."
    lh, lw = sc["latent_hw"]
    cache = KVCache(**options)
    cache.reserve(chunks * CHUNK * lh * lw // 4)
    generator = torch.Generator(device=device).manual_seed(0)
    context = torch.randn(1, sc["text_len"], model.config.text_dim, generator=generator, device=device).to(dtype)
    sampler, seconds, latents = FewStepSampler(), [], []
    for _ in range(chunks):
        noise = sample_noise((1, model.config.in_channels, CHUNK, lh, lw), generator, dtype, device)
        dt, x0 = timed(device, denoise_chunk, model, noise, context, cache, sampler, generator)
        seconds.append(dt)
        latents.append(x0)
    return seconds, torch.cat(latents, 2)


@torch.no_grad()
def run_project_stream(model, sc: dict, device: str, dtype, options: dict, chunks: int):
    "The sink stream (the paper's long/short schedule): per-chunk seconds, the clean latents, the largest position."
    lh, lw = sc["latent_hw"]
    generator = torch.Generator(device=device).manual_seed(1)          # the same prompt for every variant
    context = torch.randn(1, sc["text_len"], model.config.text_dim, generator=generator, device=device).to(dtype)
    stream = StreamingGenerator(model, context, lh, lw, schedule=ContextSchedule.from_video_frames(), seed=0,
                                dtype=dtype, cache_options=options)
    seconds, latents = [], []
    for _ in range(chunks):
        dt, x0 = timed(device, stream.step)
        seconds.append(dt)
        latents.append(x0)
    return seconds, torch.cat(latents, 2), stream


def build_3d_branch(tiny: bool, device: str, text_dim: int):
    "VGGT for the 3D branch (tiny: the shipped toy VGGT; else VGGT-1B's aggregator, random), its size and a fusion."
    from endless_world.fusion import TextFusion3D
    from endless_world.toy_vggt import load_toy_vggt
    from endless_world.vggt import VGGT, vggt_1b_config
    torch.manual_seed(0)
    if tiny:
        vggt, size = load_toy_vggt()[0].to(device), None                # sees the toy VAE's 64x64 frames as they are
    else:
        with torch.device(device):
            vggt = VGGT(dict(aggregator=vggt_1b_config()["aggregator"]))  # features only: no head is run
        size = vggt_input_size(480, 832, REALTIME_CADENCE["width"])       # 294 x 518
    vggt = vggt.eval().requires_grad_(False)
    extractor = AutocastFeatures(vggt, torch.bfloat16 if device.startswith("cuda") else None)
    fusion = TextFusion3D(2 * vggt.config["aggregator"]["embed_dim"], text_dim, hidden=32 if tiny else 128).to(device)
    torch.nn.init.normal_(fusion.zero_conv.weight, std=0.5 / fusion.zero_conv.in_channels ** 0.5)  # as if trained
    return vggt, extractor, fusion, size


def stream_with(model, sc: dict, device: str, dtype, condition=None):
    "The sink stream (the paper's schedule) with a conditioning hook and no decoder of its own."
    lh, lw = sc["latent_hw"]
    generator = torch.Generator(device=device).manual_seed(1)
    context = torch.randn(1, sc["text_len"], model.config.text_dim, generator=generator, device=device).to(dtype)
    return StreamingGenerator(model, context, lh, lw, schedule=ContextSchedule.from_video_frames(), seed=0,
                              dtype=dtype, condition=condition)


def summary_3d(rows: list[dict], warm: int, every: int = 1) -> dict:
    "Per-chunk DiT / 3D / decode seconds of `timed_chunks`, their steady-state means and the sequential FPS."
    steady = steady_rows(rows, warm, every)                      # whole cadence periods after the warm-up
    means = {k: statistics.mean(r[k] for r in steady) for k in ("dit_s", "vggt_s", "vae_s")}
    runs = [r["vggt_s"] for r in steady if r["vggt_ran"]]
    frames = statistics.mean(r["frames"] for r in steady)
    return dict(dit_chunk_s=means["dit_s"], vggt_chunk_s=means["vggt_s"], vae_chunk_s=means["vae_s"],
                vggt_run_s=statistics.mean(runs) if runs else None, vggt_runs=sum(r["vggt_ran"] for r in rows),
                fps=frames / sum(means.values()), dit_3d_fps=frames / (means["dit_s"] + means["vggt_s"]),
                first_chunk_s=rows[0]["dit_s"] + rows[0]["vggt_s"] + rows[0]["vae_s"],
                finite=all(r["finite"] for r in rows),
                chunk_s=[dict(dit=r["dit_s"], vggt=r["vggt_s"], vae=r["vae_s"]) for r in rows])


def summary(seconds: list[float], warm: int = 0) -> dict:
    "Per-chunk seconds, their steady-state mean (after `warm` chunks) and the video FPS it means."
    steady = seconds[warm:] or seconds
    mean = statistics.mean(steady)
    return dict(chunk_s=seconds, steady_mean_s=mean, total_s=sum(seconds), video_fps=VIDEO_FRAMES_PER_CHUNK / mean,
                first_chunk_s=seconds[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-forcing", type=Path, default=None, help="a Self-Forcing checkout (the peer); none: skip")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "gpu_stream.json",
                    help="where the JSON goes")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                    help="cuda or cpu (default: cuda when available)")
    ap.add_argument("--tiny", action="store_true", help="a tiny config (a smoke test of the script)")
    ap.add_argument("--chunks", type=int, default=24, help="chunks of each stream (steady state from chunk 6)")
    ap.add_argument("--compile", action="store_true", help="also time the stream with torch.compile(model)")
    ap.add_argument("--compile-mode", default=None, help="torch.compile mode, e.g. reduce-overhead")
    ap.add_argument("--vae", action="store_true",
                    help="also time the Wan VAE's streaming decode: plain, + cuDNN autotuner, + channels-last weights, "
                         "+ a whole chunk per decoder call (realtime.fast_decoder)")
    ap.add_argument("--compile-vae", action="store_true", help="also time fast_decoder(compile=True)")
    ap.add_argument("--fast", action="store_true",
                    help="the 3D loop and the overlap with the fast decoder and (with --compile) the compiled DiT")
    ap.add_argument("--vggt", action="store_true", help="also time the 3D branch: VGGT-1B alone, and in the loop")
    ap.add_argument("--overlap", action="store_true",
                    help="also time the decode overlapped with the next chunk's DiT against the sequential loop")
    a = ap.parse_args(argv)
    device = a.device
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    sc = scale(a.tiny)
    warm = min(6, max(a.chunks - 1, 0))
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
    result = dict(device=torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
                  torch=torch.__version__, dtype=str(dtype), tiny=a.tiny, latent_hw=list(sc["latent_hw"]),
                  text_len=sc["text_len"], chunk_frames=CHUNK, calls_per_chunk=len(STEPS) + 1,
                  flash_attn=importlib.util.find_spec("flash_attn") is not None, threads=torch.get_num_threads())
    a.out.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    # 1. the peer: Self-Forcing's own causal model, its 7-chunk protocol, then its sink + rolling window stream
    if a.self_forcing is not None:
        try:
            cls, attention = load_peer(a.self_forcing.resolve())
            result["peer_attention"] = attention
            peer = peer_model(cls, sc["peer"], device, dtype)
            run_peer(peer, sc["peer"], sc, device, dtype, KV_CHUNKS, KV_CHUNKS * CHUNK)        # warm-up
            result["peer_kv"] = summary(run_peer(peer, sc["peer"], sc, device, dtype, KV_CHUNKS, KV_CHUNKS * CHUNK))
            del peer
            peer = peer_model(cls, sc["peer"], device, dtype, local_attn_size=21, sink_size=1)
            result["peer_stream"] = summary(run_peer(peer, sc["peer"], sc, device, dtype, a.chunks, 21), warm)
            result["peer_stream"]["note"] = "local_attn_size=21, sink_size=1: attends to up to 21 frames every chunk"
            del peer
        except Exception as err:                               # the peer is optional: record and go on
            result["peer_error"] = repr(err)[:800]
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        write_json(a.out, result)
        print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}), flush=True)

    # 2. the project: the same 7 chunks, optimised and reference; then the sink stream, optimised and reference
    with torch.device(device):
        model = CausalWanDiT(**sc["project"])
    model = cast_dit(model, dtype, device).eval().requires_grad_(False)
    outputs = {}
    for name, options in (("project_kv", {}), ("project_kv_ref", REFERENCE)):
        run_project_kv(model, sc, device, dtype, options)                                   # warm-up
        seconds, outputs[name] = run_project_kv(model, sc, device, dtype, options)
        result[name] = summary(seconds)
        write_json(a.out, result)
    for name, options in (("project_stream", {}), ("project_stream_ref", REFERENCE)):
        seconds, outputs[name], stream = run_project_stream(model, sc, device, dtype, options, a.chunks)
        result[name] = dict(summary(seconds, warm), max_position=stream.max_position_used,
                            cache_allocated_bytes=stream.cache.allocated_nbytes())
        write_json(a.out, result)
    result["agreement_max_abs"] = dict(
        kv=(outputs["project_kv"].float() - outputs["project_kv_ref"].float()).abs().max().item(),
        stream=(outputs["project_stream"].float() - outputs["project_stream_ref"].float()).abs().max().item())
    for name in ("peer_kv", "project_kv_ref"):
        if name in result:
            result[f"speedup_project_kv_over_{name}"] = result[name]["total_s"] / result["project_kv"]["total_s"]
    if "peer_stream" in result:
        result["speedup_project_stream_over_peer_stream"] = (result["peer_stream"]["steady_mean_s"]
                                                             / result["project_stream"]["steady_mean_s"])
    write_json(a.out, result)

    # 3. optional: the compiled stream
    compiled = None
    if a.compile:
        try:
            compiled = torch.compile(model, mode=a.compile_mode)
            start = time.perf_counter()
            seconds, latents, _ = run_project_stream(compiled, sc, device, dtype, {}, a.chunks)
            result["project_stream_compiled"] = dict(summary(seconds, warm), mode=a.compile_mode,
                                                     wall_s_with_compile=time.perf_counter() - start,
                                                     max_abs_vs_eager=(latents.float() - outputs["project_stream"]
                                                                       .float()).abs().max().item())
            write_json(a.out, result)
            run_project_kv(compiled, sc, device, dtype, {})                                # warm-up: its shapes
            seconds, kv_latents = run_project_kv(compiled, sc, device, dtype, {})
            result["project_kv_compiled"] = dict(summary(seconds), max_abs_vs_eager=(
                kv_latents.float() - outputs["project_kv"].float()).abs().max().item())
            if "peer_kv" in result:
                result["speedup_project_kv_compiled_over_peer_kv"] = (result["peer_kv"]["total_s"]
                                                                      / result["project_kv_compiled"]["total_s"])
        except Exception as err:
            compiled = None
            result["project_stream_compiled"] = dict(error=repr(err)[:800])
        write_json(a.out, result)

    # 4. optional: the Wan VAE's streaming decode, plain and sped up step by step, and end to end (DiT then decode)
    if a.vae:
        from endless_world.vae import StreamingVAEDecoder, build_vae, toy_vae_config, wan21_vae_config
        vae = build_vae(toy_vae_config() if a.tiny else wan21_vae_config(), device=device).to(dtype).eval()
        lh, lw = sc["latent_hw"]
        generator = torch.Generator(device=device).manual_seed(3)
        chunks = [torch.randn(1, vae.config.z_dim, CHUNK if i else 1, lh, lw, generator=generator, device=device,
                              dtype=dtype) for i in range(8)]                      # [1, z, 1 or 3, h, w] each

        def benchmark_on(decoder):
            torch.backends.cudnn.benchmark = True
            return decoder

        variants = [("plain", lambda: StreamingVAEDecoder(vae)),
                    ("cudnn_benchmark", lambda: benchmark_on(StreamingVAEDecoder(vae))),
                    ("channels_last", lambda: fast_decoder(vae, whole_chunks=False)),   # + cudnn_benchmark
                    ("whole_chunks", lambda: fast_decoder(vae))]                        # + channels_last
        if a.compile_vae:
            variants.append(("compiled", lambda: fast_decoder(vae, compile=True)))      # + whole_chunks
        result["vae"], reference = {}, None
        for name, make in variants:
            try:
                decoder = make()
                pass_s = []
                with torch.no_grad():
                    for _ in range(2):                        # the first pass warms up (autotuning, compiling)
                        decoder.reset()
                        start = time.perf_counter()
                        timings = [timed(device, decoder.decode_chunk, z) for z in chunks]
                        pass_s.append(time.perf_counter() - start)
                seconds, pixels = [t for t, _ in timings], [p for _, p in timings]
                frames = [p.shape[2] for p in pixels]
                if name == "plain":
                    reference = pixels
                result["vae"][name] = dict(
                    chunk_s=seconds, frames=frames, frames_per_s=sum(frames[2:]) / sum(seconds[2:]),
                    first_pass_s=pass_s[0],
                    max_abs_vs_plain=None if reference is None else max(
                        (p.float() - q.float()).abs().max().item() for p, q in zip(pixels, reference, strict=True)))
            except Exception as err:
                result["vae"][name] = dict(error=repr(err)[:800])
            write_json(a.out, result)
        torch.backends.cudnn.benchmark = a.fast
        del vae, chunks, decoder, timings, pixels, reference                     # free the GPU for the 3D branch
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        dit_s = result["project_stream"]["steady_mean_s"]                        # the eager DiT, for every variant
        for row in result["vae"].values():
            if "frames_per_s" in row:
                row["end_to_end_fps"] = VIDEO_FRAMES_PER_CHUNK / (dit_s + VIDEO_FRAMES_PER_CHUNK / row["frames_per_s"])
        write_json(a.out, result)
    # 5. optional: the 3D branch, VGGT-1B alone (1 / 4 / 12 frames), then in the loop (sequential, part by part)
    vae_3d = None
    if a.vggt or a.overlap:
        from endless_world.vae import StreamingVAEDecoder, build_vae, toy_vae_config, wan21_vae_config
        vae_3d = build_vae(toy_vae_config(z_dim=16) if a.tiny else wan21_vae_config(), device=device).to(dtype).eval()
        vggt, extractor, fusion, size = build_3d_branch(a.tiny, device, model.config.text_dim)
        pixel_hw = (sc["latent_hw"][0] * 8, sc["latent_hw"][1] * 8)
        vggt_hw = size or pixel_hw
        loop_model = compiled if a.fast and compiled is not None else model

        def new_decoder():
            return fast_decoder(vae_3d, compile=a.compile_vae) if a.fast else StreamingVAEDecoder(vae_3d)
        result["loops"] = dict(fast=a.fast, compiled_dit=loop_model is not model,
                               decoder="fast_decoder" + (" compiled" if a.compile_vae else "") if a.fast else "plain")

        def hook(every):
            from endless_world.fusion import TextFusionCondition
            return TextFusionCondition(fusion, extractor, last_frames=REALTIME_CADENCE["last_frames"], every=every,
                                       size=size)
    if a.vggt:
        try:
            timings = {}
            for n in (1, 4, 12):
                images = torch.rand(1, n, 3, *vggt_hw, device=device)
                for _ in range(2):                                                       # warm-up
                    extractor.features(images)
                seconds = [timed(device, extractor.features, images)[0] for _ in range(5)]
                flops = vggt_features_flops(vggt.config, n, *vggt_hw)["total"]
                median = statistics.median(seconds)
                timings[str(n)] = dict(seconds=seconds, median_s=median, tflop=flops / 1e12,
                                       tflops_per_s=flops / median / 1e12)
            result["vggt"] = dict(input_hw=list(vggt_hw), autocast=str(extractor.dtype), frames=timings)
        except Exception as err:
            result["vggt"] = dict(error=repr(err)[:800])
        write_json(a.out, result)
        for name, every in (("stream_plain", None), ("stream_3d", REALTIME_CADENCE["every"]), ("stream_3d_every1", 1)):
            try:
                stream = stream_with(loop_model, sc, device, dtype, None if every is None else hook(every))
                rows, _ = timed_chunks(stream, new_decoder(), a.chunks)
                result[name] = dict(summary_3d(rows, warm, every or 1), every=every,
                                    last_frames=REALTIME_CADENCE["last_frames"], vggt_input_hw=list(vggt_hw))
            except Exception as err:
                result[name] = dict(error=repr(err)[:800])
            write_json(a.out, result)

    # 6. optional: the decode overlapped with the next chunk's DiT (a side CUDA stream) against the sequential loop
    if a.overlap:
        try:
            overlap_result = {}
            for label, every in (("plain", None), ("3d", REALTIME_CADENCE["every"])):
                for mode, overlap in (("sequential", False), ("overlapped", True)):
                    stream = stream_with(loop_model, sc, device, dtype, None if every is None else hook(every))
                    loop = stream_decoded(stream, new_decoder(), a.chunks, overlap=overlap)
                    overlap_result[f"{label}_{mode}"] = clock_loop(loop, device, warm)
                    write_json(a.out, dict(result, overlap=overlap_result))
            for label in ("plain", "3d"):
                overlap_result[f"speedup_{label}"] = (overlap_result[f"{label}_overlapped"]["fps"]
                                                      / overlap_result[f"{label}_sequential"]["fps"])
            # the same frames either way: both loops side by side for a few chunks
            loops = [stream_decoded(stream_with(loop_model, sc, device, dtype, hook(REALTIME_CADENCE["every"])),
                                    new_decoder(), min(a.chunks, 6), overlap=overlap)
                     for overlap in (False, True)]
            overlap_result["frames_max_abs_diff"] = max((x.float() - y.float()).abs().max().item()
                                                        for x, y in zip(*loops, strict=True))
            result["overlap"] = overlap_result
        except Exception as err:
            result["overlap"] = dict(error=repr(err)[:800])
        write_json(a.out, result)
    if device.startswith("cuda"):
        result["peak_gpu_mem_gib"] = torch.cuda.max_memory_allocated() / 2**30
    write_json(a.out, result)
    print(json.dumps({k: (v if not isinstance(v, dict) else {kk: vv for kk, vv in v.items() if kk != "chunk_s"})
                      for k, v in result.items()}, indent=1, default=str))
    return result


if __name__ == "__main__":
    main()
