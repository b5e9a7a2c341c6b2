"""The shipped toy checkpoints load by their default paths from any working directory."""
import os

import pytest
import torch

from endless_world.attributes import ATTRIBUTES, load_attribute_classifier
from endless_world.checkpoint import CheckpointError
from endless_world.toy_vggt import load_toy_vggt
from endless_world.vae import load_toy_vae


def test_shipped_checkpoints_load_from_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    vae = load_toy_vae()
    vggt, cfg = load_toy_vggt()
    assert os.getcwd() == str(tmp_path)
    assert vae.config.z_dim == 32 and len(vae.config.latents_std) == 32 and cfg["trained_steps"] > 0
    assert all(torch.isfinite(p).all() for p in vae.parameters())
    assert all(torch.isfinite(p).all() for p in vggt.parameters())
    scores = load_attribute_classifier()[0](torch.rand(2, 3, 64, 64))
    assert sorted(scores) == sorted(ATTRIBUTES) and all(s.shape == (2, len(ATTRIBUTES[k])) for k, s in scores.items())


def test_missing_checkpoint_names_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope"):
        load_toy_vggt(str(tmp_path / "nope.safetensors"))
    with pytest.raises(FileNotFoundError, match="nope"):
        load_toy_vae(str(tmp_path / "nope"))
    with pytest.raises(CheckpointError, match=str(tmp_path / "nope")):
        load_toy_vae(tmp_path / "nope")
