"""End to end across notebooks 01, 03, 04, 05: a toy causal DiT + the few-step sampler + the streaming generator
with a streaming VAE decoder turn text embeddings into chunks of pixels, forever.

The DiT is randomly initialised (seeded): these tests pin the machinery, not the picture quality. Besides frame
counts, determinism, the prompt switch and the checkpoint round trip, every end-to-end result is checked against
something independent of the path that made it:

* the streaming generator, before its window first rolls, equals the plain KV-cache `generate_video`;
* the KV-cache path equals recomputing the whole video so far for every denoising call with the unoptimised
  block-causal full pass (no cache), written out here from the sampler's definition, in fp32;
* the streaming VAE decode of the generated chunks equals a one-shot decode of all their latents;
* the pipeline in bfloat16 (`cast_dit` DiT, bf16 VAE) stays within a measured tolerance of float32.

The VAE is the trained toy VAE shipped in `data/`.
"""
import copy

import pytest
import torch

from endless_world.dit import CausalWanDiT, cast_dit, load_causal_wan, save_causal_wan, toy_dit_config
from endless_world.sampler import FewStepSampler, generate_video, sample_noise
from endless_world.streaming import ContextSchedule, StreamingGenerator
from endless_world.vae import StreamingVAEDecoder, denormalize_latents, load_toy_vae

LATENT_HW = 8                      # 64×64 pixels / the VAE's 8× spatial compression
SCHEDULE = ContextSchedule(sink=1, long=5, short=1, pattern=("long", "short"))   # the window rolls at chunk 2
N_CHUNKS = 5
DTYPES = [torch.float32, torch.bfloat16]
# bf16 vs fp32 over 5 streamed chunks of pixels in [-1, 1] (pixel std 0.18; window rolled, with and without the
# prompt switch): measured max |diff| 0.015 and mean |diff| 0.0008 on this toy pipeline; the bounds leave ~3x headroom
BF16_MAX_ABS, BF16_MEAN_ABS = 0.05, 0.003


pytestmark = pytest.mark.usefixtures("one_thread")   # tests/conftest.py


@pytest.fixture(scope="module")
def vae():
    return load_toy_vae()


@pytest.fixture(scope="module")
def dit(vae):
    torch.manual_seed(0)
    cfg = toy_dit_config(latent_channels=vae.config.z_dim, dim=32, num_layers=2, num_heads=2, text_dim=16, freq_dim=32)
    return CausalWanDiT(**cfg).eval()


@pytest.fixture(scope="module")
def models(dit, vae):
    "(DiT, VAE) per dtype: bf16 is `cast_dit` (fp32 norms and modulation kept) and a bf16 VAE."
    low_vae = copy.deepcopy(vae).to(torch.bfloat16)
    return {torch.float32: (dit, vae), torch.bfloat16: (cast_dit(copy.deepcopy(dit), torch.bfloat16), low_vae)}


@pytest.fixture(scope="module")
def prompts():
    g = torch.Generator().manual_seed(1)
    return torch.randn(1, 6, 16, generator=g), torch.randn(1, 6, 16, generator=g)   # [B, T, text_dim]


def streamer(dit, vae, context, seed=0, chunk_size=None, schedule=SCHEDULE):
    return StreamingGenerator(dit, context, LATENT_HW, LATENT_HW, schedule=schedule, sampler=FewStepSampler(),
                              chunk_size=chunk_size, seed=seed, decoder=StreamingVAEDecoder(vae, normalized=True))


def stream_pixels(dit, vae, context, n_chunks=N_CHUNKS, seed=0, chunk_size=None, switch_at=None, new_context=None):
    "Stream `n_chunks` decoded chunks [B, 3, F, 64, 64]; switch the prompt before chunk `switch_at` if given."
    gen = streamer(dit, vae, context, seed=seed, chunk_size=chunk_size)
    stream, chunks = gen.stream(), []
    for i in range(n_chunks):
        if i == switch_at:
            gen.switch_prompt(new_context)
        chunks.append(next(stream))
    return chunks


@pytest.fixture(scope="module")
def streams(models, prompts):
    "Per dtype: the reference stream, and the same stream with a prompt switch before chunk 3 (window rolled)."
    out = {}
    for dtype, (dit, vae) in models.items():
        out[dtype] = (stream_pixels(dit, vae, prompts[0]),
                      stream_pixels(dit, vae, prompts[0], switch_at=3, new_context=prompts[1]))
    return out


@pytest.mark.parametrize("dtype", DTYPES, ids=["fp32", "bf16"])
def test_frame_counts_and_finite(streams, dtype):
    reference_stream = streams[dtype][0]
    # 3 latent frames per chunk; the causal VAE gives 1, 4, 4 frames for the first chunk's latents, then 4 each
    assert [c.shape[2] for c in reference_stream] == [9, 12, 12, 12, 12]
    for c in reference_stream:
        assert c.dtype == dtype
        assert c.shape[:2] == (1, 3) and c.shape[-2:] == (64, 64)
        assert torch.isfinite(c).all()
        assert c.min() >= -1 and c.max() <= 1
    assert torch.cat(reference_stream, 2).float().std() > 1e-3          # not a constant video


def test_frame_wise_chunks(dit, vae, prompts):
    chunks = stream_pixels(dit, vae, prompts[0], n_chunks=4, chunk_size=1)
    assert [c.shape[2] for c in chunks] == [1, 4, 4, 4]


def test_deterministic_under_seed(dit, vae, prompts, streams):
    reference_stream = streams[torch.float32][0]
    again = stream_pixels(dit, vae, prompts[0], seed=0)
    assert all(torch.equal(a, b) for a, b in zip(again, reference_stream, strict=True))
    other = stream_pixels(dit, vae, prompts[0], seed=1, n_chunks=1)
    assert (other[0] - reference_stream[0]).abs().max() > 1e-3


@pytest.mark.parametrize("dtype", DTYPES, ids=["fp32", "bf16"])
def test_prompt_switch_changes_only_the_future(streams, dtype):
    # switch before chunk 3: the window (sink + 5 frames) has rolled, it holds frames 0, 4-8
    reference_stream, switched = streams[dtype]
    for i in (0, 1, 2):                                           # before the switch: bit-identical
        assert torch.equal(switched[i], reference_stream[i])
    for i in (3, 4):                                              # after it: different pixels
        assert (switched[i] - reference_stream[i]).abs().max() > 1e-3
        assert torch.isfinite(switched[i]).all()


def test_bf16_within_tolerance_of_fp32(streams):
    for fp32, bf16 in zip(streams[torch.float32], streams[torch.bfloat16], strict=True):   # reference, switched
        diff = (torch.cat(bf16, 2).float() - torch.cat(fp32, 2)).abs()
        assert diff.max() <= BF16_MAX_ABS, diff.max()
        assert diff.mean() <= BF16_MEAN_ABS, diff.mean()


def test_checkpoint_round_trip(tmp_path, dit, vae, prompts, streams):
    reference_stream = streams[torch.float32][0]
    save_causal_wan(dit, tmp_path / "toy_dit", extra=dict(note="pipeline test"))
    assert (tmp_path / "toy_dit.safetensors").exists() and (tmp_path / "toy_dit.json").exists()
    loaded = load_causal_wan(tmp_path / "toy_dit.safetensors")

    def public(cfg):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items() if not k.startswith("_")}
    assert isinstance(loaded, CausalWanDiT) and public(loaded.config) == public(dit.config)
    for (k, a), (k2, b) in zip(dit.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b), k
    again = stream_pixels(loaded, vae, prompts[0], seed=0)
    assert all(torch.equal(a, b) for a, b in zip(again, reference_stream, strict=True))


# ---- against independent references -------------------------------------------------------------------------

def recompute_video(dit, context, n_chunks, seed, sampler, chunk_size=3):
    """The unoptimised reference: no KV cache. Every denoising call re-runs the whole video so far — the clean
    earlier chunks at t = 0 and the noisy new chunk at t — through the block-causal full pass, and keeps the new
    chunk's output. Flow matching written out: x0 = x - σ_i·v, then x = (1 - σ_{i+1})·x0 + σ_{i+1}·ε."""
    g = torch.Generator().manual_seed(seed)
    B, C, k = context.shape[0], dit.config.in_channels, chunk_size
    sigmas = sampler.sigmas.double().tolist()
    video = torch.zeros(B, C, 0, LATENT_HW, LATENT_HW)
    for _ in range(n_chunks):
        x = sample_noise((B, C, k, LATENT_HW, LATENT_HW), g)
        for i, t in enumerate(sampler.timesteps.tolist()):
            frames = torch.cat([video, x], dim=2)
            timesteps = torch.cat([torch.zeros(B, video.shape[2]), torch.full((B, k), t)], dim=1)
            with torch.no_grad():
                flow = dit(frames, timesteps, context, attention="block_causal", chunk_size=k)[:, :, -k:]
            x0 = x - sigmas[i] * flow
            if i + 1 < len(sampler):
                x = (1 - sigmas[i + 1]) * x0 + sigmas[i + 1] * sample_noise(x0.shape, g)
        video = torch.cat([video, x0], dim=2)
    return video


def test_streaming_before_the_roll_equals_plain_kv_cache_and_recompute(dit, prompts):
    # 4 chunks = 12 latent frames, a window of 1 + 11: full, not rolled yet
    sampler = FewStepSampler()
    gen = StreamingGenerator(dit, prompts[0], LATENT_HW, LATENT_HW, sampler=sampler, seed=3,
                             schedule=ContextSchedule(sink=1, long=11, short=1, pattern=("long",)))
    streamed = torch.cat([gen.step() for _ in range(4)], dim=2)
    plain, _ = generate_video(dit, prompts[0], 12, LATENT_HW, LATENT_HW, sampler=sampler, seed=3)
    assert (streamed - plain).abs().max() <= 1e-6                       # measured: 0
    recomputed = recompute_video(dit, prompts[0], 4, seed=3, sampler=sampler)
    assert (plain - recomputed).abs().max() <= 1e-5                     # measured: 6e-7 (latent std 0.9)
    assert plain.std() > 0.1


def test_streaming_decode_equals_one_shot_decode(dit, vae, prompts):
    gen = streamer(dit, vae, prompts[0], seed=2)
    latents, pixels = [], []
    for _ in range(N_CHUNKS):                                          # the window rolls on the way
        latents.append(gen.step())
        pixels.append(gen.last_decoded)
    with torch.no_grad():
        one_shot = vae.decode(denormalize_latents(vae, torch.cat(latents, dim=2))).sample.clamp(-1, 1)
    streamed = torch.cat(pixels, dim=2)
    assert streamed.shape == one_shot.shape == (1, 3, 1 + 4 * (3 * N_CHUNKS - 1), 64, 64)
    assert (streamed - one_shot).abs().max() <= 1e-5                    # measured: 0
