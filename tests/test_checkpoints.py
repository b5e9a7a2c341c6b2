"""Every model loader fails the same way on a bad file: a one-line `CheckpointError` that names the file.

Three ways a checkpoint goes wrong in practice, for each loader of a shipped or full-scale model:
garbage bytes (a file that is not a checkpoint), a file cut short (an interrupted copy), and a file of
another model (the right format, the wrong keys or config).
"""
import shutil
from pathlib import Path

import pytest
import torch

from endless_world.checkpoint import CheckpointError, shipped_path
from endless_world.dit import CausalWanDiT, load_causal_wan, save_causal_wan, toy_dit_config
from endless_world.text import load_toy_text_encoder
from endless_world.toy_vggt import load_toy_vggt
from endless_world.vae import load_toy_vae


def copy_shipped(name: str, folder: Path) -> Path:
    "Copy `data/<name>.safetensors` and its JSON into `folder`; returns the weights' path."
    for suffix in (".safetensors", ".json"):
        shutil.copy(shipped_path(name + suffix), folder / (name + suffix))
    return folder / (name + ".safetensors")


def tiny_dit(folder: Path) -> Path:
    torch.manual_seed(0)
    config = toy_dit_config(latent_channels=4, dim=32, num_layers=1, num_heads=2, text_dim=16, freq_dim=32)
    model = CausalWanDiT(**config)
    return save_causal_wan(model, folder / "dit")


# name -> (make a good file in a folder, load it, the other model whose file it gets in the wrong-model case)
LOADERS = {
    "toy_vae": (lambda d: copy_shipped("toy_vae", d), load_toy_vae, "toy_vggt"),
    "toy_vggt": (lambda d: copy_shipped("toy_vggt", d), load_toy_vggt, "toy_vae"),
    "toy_text": (lambda d: copy_shipped("toy_text", d), load_toy_text_encoder, "toy_vae"),
    "causal_wan": (tiny_dit, load_causal_wan, "toy_vggt"),
}


def damage(path: Path, how: str, tmp_path: Path):
    "Damage the checkpoint at `path` in place: garbage bytes, cut in half, or replaced by another model's files."
    if how == "garbage":
        path.write_bytes(b"not a checkpoint " * 64)
    elif how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:   # another model's weights and config under this file's name
        other = LOADERS[how.removeprefix("wrong:")][0](tmp_path / "other")
        shutil.copy(other, path)
        shutil.copy(other.with_suffix(".json"), path.with_suffix(".json"))


@pytest.mark.parametrize("name", LOADERS)
@pytest.mark.parametrize("how", ["garbage", "truncated", "wrong"])
def test_bad_checkpoint_names_the_file(name, how, tmp_path):
    make, load, other = LOADERS[name]
    (tmp_path / "ours").mkdir()
    (tmp_path / "other").mkdir()
    path = make(tmp_path / "ours")
    load(path)   # the good file loads
    damage(path, how if how != "wrong" else f"wrong:{other}", tmp_path)
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert str(path.with_suffix("")) in message, f"{message!r} does not name {path}"


def test_missing_checkpoint_names_the_file(tmp_path):
    for name, (_, load, _) in LOADERS.items():
        with pytest.raises(FileNotFoundError) as info:
            load(tmp_path / f"{name}.safetensors")
        assert str(tmp_path / name) in str(info.value) and isinstance(info.value, CheckpointError)
