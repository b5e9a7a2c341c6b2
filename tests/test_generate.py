"""`generate_video_file` end to end with a stand-in generator (a random `CausalWanDiT`): a 2-second video has its
32 frames; SIGINT or SIGTERM mid-stream leaves a playable file of whole chunks and a clean exit; each bad input is
a one-line error raised before anything is generated, leaving no file. And across training and generation: what
`train_self_forcing` writes (the run folder's student, the shipped file) is what `generate` streams."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest
import torch

import endless_world.checkpoint as checkpoint_module
import endless_world.generate as generate_module
import endless_world.train.self_forcing as self_forcing
from endless_world.checkpoint import (CheckpointError, CheckpointNotFoundError, read_config, shipped_path,
                                      weights_path)
from endless_world.dit import save_causal_wan
from endless_world.fusion import TextFusion3D, load_fusion, save_fusion
from endless_world.generate import (EXAMPLE_PROMPT, GENERATOR_FILE, TRAIN_COMMAND, fusion_for, generate_video_file,
                                    generator_path, load_generator, save_random_generator)
from endless_world.media import read_video
from endless_world.sampler import FewStepSampler
from endless_world.toy_vggt import load_toy_vggt
from endless_world.train.self_forcing import stand_in_models, train_self_forcing, variant_name
from endless_world.vae import load_toy_vae


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    "A small random generator checkpoint (dim 32, 2 layers): the stand-in for the trained toy generator."
    return save_random_generator(tmp_path_factory.mktemp("gen") / "standin", dim=32, num_layers=2)


def ffmpeg_frame_count(path) -> int:
    "Frames of a video as ffmpeg decodes them (fails on a file without an index: not playable)."
    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]


def test_two_seconds_make_a_playable_file_of_32_frames(standin, tmp_path):
    out = tmp_path / "sub" / "two.mp4"
    summary = generate_video_file(EXAMPLE_PROMPT, 2, out, checkpoint=standin, progress=False)
    assert ffmpeg_frame_count(out) == 32                      # 2 s × 16 fps
    video = read_video(out)
    assert tuple(video.shape) == (32, 3, 64, 64)
    assert video.std() > 0.01                                 # not a blank video
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["frames"] == summary["frames"] == 32 and saved["chunks"] == 3 and saved["stopped_by"] == "length"
    assert saved["chunk_latency_ms"]["max"] >= saved["chunk_latency_ms"]["median"] > 0


def test_bfloat16_generation_matches_float32(standin, tmp_path):
    "The same stream with the generator cast to bf16: a playable file whose frames stay close to the fp32 ones."
    videos = {}
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        out = tmp_path / f"{name}.mp4"
        generate_video_file(EXAMPLE_PROMPT, 1, out, checkpoint=standin, progress=False, dtype=dtype)
        videos[name] = read_video(out)
    assert videos["bf16"].shape == videos["fp32"].shape == (16, 3, 64, 64)
    gap = (videos["bf16"] - videos["fp32"]).abs()
    assert gap.mean() < 0.02 and not torch.equal(videos["bf16"], videos["fp32"]), gap.mean()


STREAM = """
import sys
from endless_world.generate import generate_video_file
def report(frames, info):
    print("chunk", info["chunk"], flush=True)
generate_video_file(sys.argv[1], 0, sys.argv[2], checkpoint=sys.argv[3], preview=report, progress=False)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_stream_leaves_a_playable_file_of_whole_chunks(standin, tmp_path, sig):
    out = tmp_path / "endless.mp4"
    proc = subprocess.Popen([sys.executable, "-c", STREAM, EXAMPLE_PROMPT, str(out), str(standin)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        for line in proc.stdout:                              # seconds=0: it streams until the signal
            if line.strip() == "chunk 0":                     # the first chunk is in the file
                proc.send_signal(sig)
                break
        _, stderr = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr                       # a clean stop, not a crash
    assert "Traceback" not in stderr, stderr
    frames = ffmpeg_frame_count(out)
    assert frames >= 9 and (frames - 9) % 12 == 0, frames     # 9 + 12·k: whole chunks only
    assert len(read_video(out)) == frames
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["stopped_by"] == sig.name and summary["frames"] == frames


def one_line_error(**change):
    "The error `generate_video_file` raises with one argument changed from a good request."
    args = dict(prompt=EXAMPLE_PROMPT, seconds=1, out=change.pop("tmp") / "bad.mp4", progress=False) | change
    with pytest.raises(ValueError) as info:
        generate_video_file(**args)
    message = str(info.value)
    assert message and "\n" not in message, message
    assert not Path(args["out"]).exists()                     # nothing was written
    return info.value


def test_an_empty_prompt(standin, tmp_path):
    err = one_line_error(tmp=tmp_path, prompt="   ", checkpoint=standin)
    assert str(err).startswith("prompt: empty")


def test_an_unknown_word(standin, tmp_path):
    err = one_line_error(tmp=tmp_path, prompt="a sunset drive through a purple world", checkpoint=standin)
    assert "unknown word 'purple'" in str(err)
    assert "known words:" in str(err) and "checkered" in str(err)      # the vocabulary is listed


@pytest.mark.parametrize("seconds", [-1, -0.5, float("nan")])
def test_a_negative_length(standin, tmp_path, seconds):
    err = one_line_error(tmp=tmp_path, seconds=seconds, checkpoint=standin)
    assert str(err).startswith("seconds: must be a number >= 0")


def test_an_unwritable_output_path_is_refused_before_any_checkpoint_is_read(tmp_path):
    (tmp_path / "a_file").write_text("")
    for out in (tmp_path / "a_file" / "v.mp4", Path("/proc/v.mp4")):
        # a checkpoint that does not exist: the output path must be refused first
        err = one_line_error(tmp=tmp_path, out=out, checkpoint=tmp_path / "missing.safetensors")
        assert str(err).startswith(f"out: can't write {out}"), err


@pytest.mark.parametrize("name", ["toy_vae.safetensors", "toy_text.safetensors", "toy_vggt.safetensors"])
def test_a_checkpoint_of_the_wrong_kind(tmp_path, name):
    err = one_line_error(tmp=tmp_path, checkpoint=shipped_path(name))
    assert isinstance(err, CheckpointError)
    assert str(err).startswith(f"{shipped_path(name)}: not a video generator"), err


def test_the_teacher_is_not_a_generator(standin, tmp_path):
    model, _ = load_generator(standin)
    teacher = save_causal_wan(model, tmp_path / "teacher", dict(kind="toy_teacher"))
    err = one_line_error(tmp=tmp_path, checkpoint=teacher)
    assert isinstance(err, CheckpointError) and "bidirectional many-step teacher" in str(err)


def test_a_fusion_module_is_not_a_generator(tmp_path):
    fusion_file = save_fusion(tmp_path / "fusion", TextFusion3D(feat_dim=128, text_dim=64, hidden=8))
    err = one_line_error(tmp=tmp_path, checkpoint=fusion_file)
    assert isinstance(err, CheckpointError) and str(err).startswith(f"{fusion_file}: a 3D fusion module"), err


def test_the_missing_shipped_generator_names_the_file_and_the_training_command(tmp_path, monkeypatch):
    empty = tmp_path / "data"                    # data/ as shipped, less the generator
    empty.mkdir()
    for shipped in checkpoint_module.DATA_DIR.iterdir():
        if not shipped.name.startswith("toy_generator_"):
            (empty / shipped.name).symlink_to(shipped)
    monkeypatch.setattr(checkpoint_module, "DATA_DIR", empty)
    monkeypatch.setattr(generate_module, "DATA_DIR", empty)
    err = one_line_error(tmp=tmp_path, checkpoint=None)
    assert isinstance(err, CheckpointNotFoundError)
    assert str(err).startswith(str(empty / GENERATOR_FILE)) and f"`{TRAIN_COMMAND}`" in str(err), err


def endless_world_stand_ins() -> dict:
    "Tiny random teacher and student fitting the shipped toy VAE (32 channels) and text encoder (64 wide); VAE, VGGT."
    models = stand_in_models(latent_channels=load_toy_vae().config.z_dim, text_dim=64, num_frames=6, height=8, width=8)
    models.update(vae=load_toy_vae(), extractor=load_toy_vggt()[0])
    return models


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_what_training_writes_is_what_generate_streams(tmp_path):
    "The Endless World variant (detach + text fusion), one DMD step on stand-ins: its run folder's student streams."
    torch.set_num_threads(1)
    student, _ = train_self_forcing(tmp_path / "run", steps=1, fusion="text", models=endless_world_stand_ins(),
                                    ship=False, progress=False)
    checkpoint = tmp_path / "run" / "generator.safetensors"
    meta = read_config(checkpoint)
    assert (meta["kind"], meta["variant"], meta["fusion"]) == ("toy_generator_dmd", "detach_text3d",
                                                               "generator_fusion.safetensors")
    assert (meta["chunk_size"], meta["latent_shape"]) == (3, [load_toy_vae().config.z_dim, 6, 8, 8])
    assert meta["timesteps"] == FewStepSampler().timesteps.tolist()            # what the stream samples
    # the stream's readers get the trained weights (no EMA before step 200: the student itself)
    model, _ = load_generator(checkpoint)
    assert same_weights(model.state_dict(), student.generator.state_dict())
    fusion, fusion_meta = load_fusion(fusion_for(meta, checkpoint))
    assert same_weights(fusion.state_dict(), student.fusion.state_dict()) and fusion_meta["last_frames"] == 12
    # and `generate` streams it, with its fusion, into a playable file
    out = tmp_path / "ew.mp4"
    summary = generate_video_file(EXAMPLE_PROMPT, 1, out, checkpoint=checkpoint, progress=False)
    assert ffmpeg_frame_count(out) == 16 and len(read_video(out)) == 16      # 1 s × 16 fps
    assert summary["kind"] == "toy_generator_dmd"
    assert summary["fusion"] == dict(file=str(tmp_path / "run" / "generator_fusion.safetensors"),
                                     kind="text_fusion_3d", strength=1.0, last_frames=12)


def test_the_default_generator_is_the_file_training_ships(tmp_path, monkeypatch):
    "`ship=True` of the Endless World variant writes `GENERATOR_FILE` (into a stand-in data/): `generate`'s default."
    shipped, written = tmp_path / "data", []
    save_student = self_forcing.save_student

    def save_under_tmp(state_dict, generator_config, fusion_cfg, path, *args, **kwargs):
        assert Path(path).is_relative_to(tmp_path), path                        # never the real data/
        written.append(Path(path))
        return save_student(state_dict, generator_config, fusion_cfg, path, *args, **kwargs)

    monkeypatch.setattr(self_forcing, "DATA_DIR", shipped)
    monkeypatch.setattr(self_forcing, "save_student", save_under_tmp)
    torch.set_num_threads(1)
    student, _ = train_self_forcing(tmp_path / "run", steps=1, fusion="text", models=endless_world_stand_ins(),
                                    ship=True, progress=False)
    assert [weights_path(p) for p in written] == [tmp_path / "run" / "generator.safetensors", shipped / GENERATOR_FILE]
    assert GENERATOR_FILE == f"toy_generator_{variant_name(detach=True, fusion='text', l3d=False)}.safetensors"
    monkeypatch.setattr(checkpoint_module, "DATA_DIR", shipped)                # where `shipped_path` looks
    assert generator_path() == shipped / GENERATOR_FILE                          # the default checkpoint
    model, meta = load_generator()
    assert same_weights(model.state_dict(), student.generator.state_dict())
    assert fusion_for(meta, generator_path()) == shipped / GENERATOR_FILE.replace(".safetensors", "_fusion.safetensors")
