"""End to end across notebooks 01, 03, 04, 05: a toy causal DiT + the few-step sampler + the streaming generator
with a streaming VAE decoder turn text embeddings into chunks of pixels, forever.

The DiT is randomly initialised (seeded): these tests pin the machinery (frame counts, determinism, prompt switch,
checkpoint round trip), not the picture quality. The VAE is the shipped toy VAE when `data/toy_vae.*` exists,
else a randomly initialised one at the toy config.
"""
from pathlib import Path

import pytest
import torch

from endless_world.dit import CausalWanDiT, load_causal_wan, save_causal_wan, toy_dit_config
from endless_world.sampler import FewStepSampler
from endless_world.streaming import ContextSchedule, StreamingGenerator
from endless_world.vae import StreamingVAEDecoder, build_vae, load_toy_vae, toy_vae_config

DATA = Path(__file__).resolve().parent.parent / "data"
LATENT_HW = 8                      # 64×64 pixels / the VAE's 8× spatial compression
SCHEDULE = ContextSchedule(sink=1, long=5, short=1, pattern=("long", "short"))   # the window rolls at chunk 2
N_CHUNKS = 5


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    "Tensors this small run fastest on one thread (and the CI machine's 2 cores are shared)."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def vae():
    if (DATA / "toy_vae.safetensors").exists() and (DATA / "toy_vae.json").exists():
        return load_toy_vae(DATA / "toy_vae")
    torch.manual_seed(0)
    return build_vae(toy_vae_config()).eval()


@pytest.fixture(scope="module")
def dit(vae):
    torch.manual_seed(0)
    cfg = toy_dit_config(latent_channels=vae.config.z_dim, dim=32, num_layers=2, num_heads=2, text_dim=16, freq_dim=32)
    return CausalWanDiT(**cfg).eval()


@pytest.fixture(scope="module")
def prompts():
    g = torch.Generator().manual_seed(1)
    return torch.randn(1, 6, 16, generator=g), torch.randn(1, 6, 16, generator=g)   # [B, T, text_dim]


def stream_pixels(dit, vae, context, n_chunks=N_CHUNKS, seed=0, chunk_size=None, switch_at=None, new_context=None):
    "Stream `n_chunks` decoded chunks [B, 3, F, 64, 64]; switch the prompt before chunk `switch_at` if given."
    gen = StreamingGenerator(dit, context, LATENT_HW, LATENT_HW, schedule=SCHEDULE, sampler=FewStepSampler(),
                             chunk_size=chunk_size, seed=seed, decoder=StreamingVAEDecoder(vae, normalized=True))
    stream, chunks = gen.stream(), []
    with torch.no_grad():
        for i in range(n_chunks):
            if i == switch_at: gen.switch_prompt(new_context)
            chunks.append(next(stream))
    return chunks


@pytest.fixture(scope="module")
def reference_stream(dit, vae, prompts):
    return stream_pixels(dit, vae, prompts[0])


def test_frame_counts_and_finite(reference_stream):
    # 3 latent frames per chunk; the causal VAE gives 1, 4, 4 frames for the first chunk's latents, then 4 each
    assert [c.shape[2] for c in reference_stream] == [9, 12, 12, 12, 12]
    for c in reference_stream:
        assert c.shape[:2] == (1, 3) and c.shape[-2:] == (64, 64)
        assert torch.isfinite(c).all()
        assert c.min() >= -1 and c.max() <= 1
    assert torch.cat(reference_stream, 2).std() > 1e-3          # not a constant video


def test_frame_wise_chunks(dit, vae, prompts):
    chunks = stream_pixels(dit, vae, prompts[0], n_chunks=4, chunk_size=1)
    assert [c.shape[2] for c in chunks] == [1, 4, 4, 4]


def test_deterministic_under_seed(dit, vae, prompts, reference_stream):
    again = stream_pixels(dit, vae, prompts[0], seed=0)
    assert all(torch.equal(a, b) for a, b in zip(again, reference_stream))
    other = stream_pixels(dit, vae, prompts[0], seed=1, n_chunks=1)
    assert (other[0] - reference_stream[0]).abs().max() > 1e-3


def test_prompt_switch_changes_only_the_future(dit, vae, prompts, reference_stream):
    # switch before chunk 3: the window (sink + 5 frames) has rolled, it holds frames 0, 4-8
    switched = stream_pixels(dit, vae, prompts[0], switch_at=3, new_context=prompts[1])
    for i in (0, 1, 2):                                           # before the switch: bit-identical
        assert torch.equal(switched[i], reference_stream[i])
    for i in (3, 4):                                              # after it: different pixels
        assert (switched[i] - reference_stream[i]).abs().max() > 1e-3
        assert torch.isfinite(switched[i]).all()


def test_checkpoint_round_trip(tmp_path, dit, vae, prompts, reference_stream):
    save_causal_wan(dit, tmp_path / "toy_dit", extra=dict(note="pipeline test"))
    assert (tmp_path / "toy_dit.safetensors").exists() and (tmp_path / "toy_dit.json").exists()
    loaded = load_causal_wan(tmp_path / "toy_dit.safetensors")
    public = lambda cfg: {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items() if not k.startswith("_")}
    assert isinstance(loaded, CausalWanDiT) and public(loaded.config) == public(dit.config)
    for (k, a), (k2, b) in zip(dit.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    again = stream_pixels(loaded, vae, prompts[0], seed=0)
    assert all(torch.equal(a, b) for a, b in zip(again, reference_stream))
