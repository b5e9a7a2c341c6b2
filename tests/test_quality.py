"""The sample-quality harness (`endless_world.quality`) across modules: the reference rows rank the way they must
(ground truth is the floor, the trivial mean frame the ceiling, corrupted ground truth in between), the teacher and
generator samplers run end to end on stand-ins (a tiny random teacher, a random generator), the report is written
as the JSON it returns, and bad input is a clear error. Small settings: seconds on one thread."""
import copy
import json

import pytest
import torch

from endless_world.attributes import load_attribute_classifier
from endless_world.checkpoint import CheckpointError, CheckpointNotFoundError, copy_checkpoint, shipped_path
from endless_world.dit import CausalWanDiT, save_causal_wan
from endless_world.generate import save_random_generator
from endless_world.quality import (FLOOR, REFERENCE_FIRST, TRIVIAL, VAE_ROW, corrupted_sampler, eval_quality,
                                   format_report, generator_sampler, ground_truth_sampler, quality_report,
                                   reference_order_problems, teacher_sampler)
from endless_world.text import load_toy_text_encoder
from endless_world.toy_vggt import load_toy_vggt
from endless_world.train.latent_data import world_prompts
from endless_world.train.teacher import teacher_config
from endless_world.vae import load_toy_vae


pytestmark = pytest.mark.usefixtures("one_thread")   # tests/conftest.py


@pytest.fixture(scope="module")
def judges():
    "The shipped toy VAE, toy VGGT and attribute classifier, loaded once."
    return dict(vae=load_toy_vae(), vggt=load_toy_vggt()[0], classifier=load_attribute_classifier()[0])


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    "A tiny random teacher checkpoint and a small random generator checkpoint (the trained ones may not exist)."
    folder = tmp_path_factory.mktemp("stand_ins")
    vae_channels = load_toy_vae().config.z_dim
    text_dim = load_toy_text_encoder().dim
    torch.manual_seed(0)
    teacher = CausalWanDiT(**teacher_config(vae_channels, text_dim, dim=32, num_layers=1, num_heads=2))
    teacher_file = save_causal_wan(teacher, folder / "teacher", dict(kind="toy_teacher", guidance_scale=3.0,
                                                                      latent_shape=[vae_channels, 21, 8, 8]))
    return dict(teacher=teacher_file, generator=save_random_generator(folder / "generator", dim=32, num_layers=2))


def test_reference_rows_rank_ground_truth_below_corruptions_below_trivial(judges, tmp_path):
    out = tmp_path / "q.json"
    report = quality_report({"noise": corrupted_sampler("noise"), "blur": corrupted_sampler("blur")},
                            world_prompts("test", 4), seeds=[0, 1], out_path=out, n_frames=17, n_reference=3,
                            progress=False, **judges)
    assert reference_order_problems(report, noise="noise", blur="blur") == []
    scrambled = copy.deepcopy(report)                  # the check can fail: ground truth read as the mean frame
    scrambled["rows"][FLOOR] = report["rows"][TRIVIAL]
    problems = reference_order_problems(scrambled, noise="noise", blur="blur")
    assert any(p.startswith("judge: ground truth is the lowest FD") for p in problems), problems
    assert any(p.startswith("attributes: the mean frame 10 points below") for p in problems), problems
    assert report["chance"]["mean"] == pytest.approx(0.225)
    assert report["rows"]["noise"]["n_clips"] == 8 and report["rows"]["noise"]["n_prompts"] == 4
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    table = format_report(report)
    assert table.count("\n") == len(report["rows"]) + 2 and "| chance |" in table


def test_teacher_and_generator_rows_from_checkpoints(stand_ins, tmp_path):
    vae = copy_checkpoint(shipped_path("toy_vae.safetensors"), tmp_path / "another_vae")   # --vae: recorded
    report = eval_quality(tmp_path, teacher=stand_ins["teacher"], generators={"random": stand_ins["generator"]},
                          n_prompts=1, n_reference=2, n_frames=9, teacher_steps=2, vae_path=vae, progress=False)
    settings = report["settings"]                          # the given VAE named, the shipped judges as shipped
    assert settings["vae"] == str(vae) and settings["classifier"] == "shipped data/toy_attributes", settings
    assert settings["vggt"] == "shipped data/toy_vggt"
    assert json.loads((tmp_path / "quality.json").read_text())["settings"] == settings
    with pytest.raises(CheckpointNotFoundError, match="no_such_vae"):
        eval_quality(tmp_path, vae_path=tmp_path / "no_such_vae", progress=False)
    assert list(report["rows"]) == [FLOOR, VAE_ROW, TRIVIAL, "teacher", "random"]
    for space in ("classifier", "vggt"):      # noise-like frames of random weights: far from ground truth
        fd = {name: row["fd"][space]["pooled"] for name, row in report["rows"].items()}
        assert min(fd["random"], fd["teacher"]) > 2 * fd[FLOOR], (space, fd)
    assert json.loads((tmp_path / "quality.json").read_text())["rows"]["teacher"]["n_clips"] == 1


def test_samplers_are_seeded_and_sized(stand_ins):
    prompt = world_prompts("test", 1)[0]
    for sampler in (teacher_sampler(stand_ins["teacher"], num_steps=2), generator_sampler(stand_ins["generator"])):
        frames = sampler(prompt, 3, 9)
        assert frames.shape == (9, 3, 64, 64) and 0 <= frames.min() and frames.max() <= 1
        assert torch.equal(sampler(prompt, 3, 9), frames)
        assert not torch.equal(sampler(prompt, 4, 9), frames)


def test_bad_input_is_a_clear_error(stand_ins, judges):
    prompt = world_prompts("test", 1)[0]
    with pytest.raises(ValueError, match="reference worlds"):
        ground_truth_sampler(prompt, REFERENCE_FIRST, 9)
    with pytest.raises(ValueError, match="asked for 9 frames"):
        quality_report({"short": lambda p, s, n: torch.rand(n - 1, 3, 64, 64)}, [prompt], n_frames=9,
                       n_reference=2, references=False, progress=False, **judges)
    with pytest.raises(ValueError, match="prompts and seeds"):
        quality_report({}, [], progress=False, **judges)
    with pytest.raises(CheckpointError, match="teacher"):          # a teacher is not a streaming generator
        generator_sampler(stand_ins["teacher"])
