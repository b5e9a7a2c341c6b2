"""The ablation harness (`endless_world.ablation`) end to end on stand-ins: a shipped-looking data/ folder where some
variants exist (random generators, one with a text-level 3D fusion module) and others are missing. The table has the
paper's rows in order with the missing ones listed, ground truth beats a random generator on the FD and the 3D warp
residual, the Endless World row and the alternation row share their cells, a stopped run resumes from its cells, and
the paper comparison is computed from the run. Small settings: 2 prompts, 4 s in 2-s bins, one thread."""
import json
import shutil

import pytest
import torch

from endless_world.ablation import (ALTERNATION, BASELINE, DETACH, ENDLESS_WORLD, L3D, LATENT3D, LONG_ONLY,
                                    AblationRow, RowStreams,
                                    SHORT_ONLY, SINK, TABLE_COLUMNS, Judges, ablation_rows, ablation_table,
                                    comparison_markdown, ground_truth_row, paper_comparison, run_ablation)
from endless_world.dit import CausalWanDiT, toy_dit_config
from endless_world.fusion import TextFusion3D
from endless_world.generate import save_generator, save_random_generator
from endless_world.train.latent_data import world_prompts

SMALL = dict(bin_seconds=2.0, n_reference_clips=3, table_seconds=(2, 4), progress=False)


pytestmark = pytest.mark.usefixtures("one_thread")   # tests/conftest.py


@pytest.fixture(scope="module")
def judges():
    "The shipped toy VAE, text encoder, toy VGGT and attribute classifier, loaded once."
    return Judges.load()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, judges):
    "A data/ folder with two variants shipped as stand-ins: self_forcing (random) and detach_text3d (random + fusion)."
    folder = tmp_path_factory.mktemp("data")
    save_random_generator(folder / "toy_generator_self_forcing", dim=32, num_layers=1, num_heads=2)
    torch.manual_seed(1)
    model = CausalWanDiT(**toy_dit_config(judges.vae.config.z_dim, 32, 1, 2, judges.text.dim))
    fusion = TextFusion3D(2 * 64, judges.text.dim, hidden=16)
    torch.nn.init.normal_(fusion.zero_conv.weight, std=0.1)             # not zero: the fusion changes the stream
    save_generator(folder / "toy_generator_detach_text3d", model, "random_generator",
                   [judges.vae.config.z_dim, 21, 8, 8], fusion=fusion, fusion_frames=8)
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir, judges):
    "One ablation run over the stand-ins and ground truth: (rows, results, out_dir)."
    out_dir = tmp_path_factory.mktemp("ablation")
    rows = [ground_truth_row()] + ablation_rows(data_dir)
    results = run_ablation(rows, world_prompts("test", 2), 4, out_dir, judges=judges, **SMALL)
    return rows, results, out_dir


def test_table_has_the_papers_rows_in_order_and_lists_the_missing(run):
    rows, results, out_dir = run
    names = ["ground truth", BASELINE, SINK, DETACH, LATENT3D, ENDLESS_WORLD, L3D, ALTERNATION, LONG_ONLY,
             SHORT_ONLY]
    assert list(results["rows"]) == names
    missing = [name for name, row in results["rows"].items() if row["status"] == "missing"]
    assert missing == [DETACH, LATENT3D, L3D]
    table = ablation_table(results, 4).splitlines()
    assert table[0].count("|") == len(TABLE_COLUMNS) + 2
    assert [line.split("|")[1].strip() for line in table[2:2 + len(names)]] == names
    assert f"| {DETACH} | missing |" in "\n".join(table)
    assert "toy_generator_detach_latent3d.safetensors: not there" in "\n".join(table)
    assert "ablation.md" in {p.name for p in out_dir.iterdir()}
    assert json.loads((out_dir / "ablation.json").read_text()) == results


def test_ground_truth_beats_a_random_generator_on_fd_and_3d(run):
    _, results, _ = run
    truth, random = results["rows"]["ground truth"]["at"]["4"], results["rows"][SINK]["at"]["4"]
    assert truth["fd"]["mean"] < random["fd"]["mean"] / 5
    assert truth["warp_residual"]["mean"] < random["warp_residual"]["mean"]
    assert truth["summary"]["mean"] > random["summary"]["mean"]


def test_rows_stream_with_their_own_options(run):
    _, results, _ = run
    rows = results["rows"]
    assert rows[BASELINE]["options"]["sink"] == 0 and rows[SINK]["options"]["sink"] == 1
    assert rows[BASELINE]["checkpoint"] == rows[SINK]["checkpoint"]          # one checkpoint, sink off and on
    assert rows[BASELINE]["key"] != rows[SINK]["key"]
    # the Endless World row and the alternation row stream the same thing: the second reuses the first's cells
    assert rows[ALTERNATION]["key"] == rows[ENDLESS_WORLD]["key"]
    assert rows[ALTERNATION]["cells"] == dict(computed=0, cached=2)
    assert rows[LONG_ONLY]["key"] != rows[ENDLESS_WORLD]["key"] != rows[SHORT_ONLY]["key"]
    # sink off, short context only: other videos, so other numbers
    assert rows[BASELINE]["at"]["4"]["fd"]["per_prompt"] != rows[SINK]["at"]["4"]["fd"]["per_prompt"]
    assert rows[SHORT_ONLY]["at"]["4"]["fd"]["per_prompt"] != rows[ENDLESS_WORLD]["at"]["4"]["fd"]["per_prompt"]


def test_a_stopped_run_resumes_from_its_cells(run, judges, tmp_path):
    rows, results, out_dir = run
    copy = tmp_path / "copy"
    shutil.copytree(out_dir, copy)
    sink_cells = sorted((copy / "cells" / results["rows"][SINK]["key"]).glob("*.json"))
    sink_cells[1].unlink()                                                   # as if stopped before this cell
    again = run_ablation(rows, world_prompts("test", 2), 4, copy, judges=judges, **SMALL)
    computed = {name: row["cells"]["computed"] for name, row in again["rows"].items() if "cells" in row}
    assert computed == {name: int(name == SINK) for name in computed}
    for metric, per_bin in results["rows"][SINK]["per_bin"].items():        # the same stream, the same numbers
        assert [b["mean"] for b in again["rows"][SINK]["per_bin"][metric]] == pytest.approx(
            [b["mean"] for b in per_bin], rel=1e-5, abs=1e-7)


def test_paper_comparison_is_computed_from_the_run(run):
    _, results, _ = run
    comparison = paper_comparison(results, seconds=4)
    by = {(c["row"], c["measure"]): c for c in comparison}
    sink_total = by[(SINK, "total")]
    per_prompt = [results["rows"][name]["at"]["4"]["summary"]["per_prompt"] for name in (SINK, BASELINE)]
    assert sink_total["ours"]["mean"] == pytest.approx(sum(a - b for a, b in zip(*per_prompt, strict=True)) / 2)
    assert sink_total["paper_change"] == pytest.approx(82.94 - 81.59)
    assert sink_total["verdict"] in ("agrees", "disagrees", "within noise (same sign)",
                                     "within noise (opposite sign)")
    assert by[(DETACH, "total")]["verdict"] == "no row"                     # detach is missing
    assert by[(ENDLESS_WORLD, "quality")]["verdict"] == "no row"            # its parent (detach) is missing
    assert "| + attention sink | Self-Forcing baseline (no sink) | total | +1.35 |" in comparison_markdown(comparison)


def test_bad_input_is_a_clear_error(judges, tmp_path):
    with pytest.raises(ValueError, match="no whole 2.0 s bin"):
        run_ablation([ground_truth_row()], world_prompts("test", 1), 1, tmp_path, judges=judges, **SMALL)
    with pytest.raises(ValueError, match="names must be unique"):
        run_ablation([ground_truth_row(), ground_truth_row()], world_prompts("test", 1), 4, tmp_path,
                     judges=judges, **SMALL)
    with pytest.raises(ValueError, match="prompts"):
        run_ablation([ground_truth_row()], [], 4, tmp_path, judges=judges, **SMALL)


def test_fusion_rows_stream_with_their_fusion_module(data_dir, judges):
    streams = RowStreams(judges)
    checkpoint = data_dir / "toy_generator_detach_text3d.safetensors"
    fused, plain = (list(streams.chunks(AblationRow("r", checkpoint, fusion=fusion), "a noon drive through a desert "
                                        "world of mixed on speckled ground", 0, 33)) for fusion in (True, False))
    assert torch.equal(fused[0], plain[0])            # the first chunk: no frames yet, the 3D term is nothing
    assert (fused[-1] - plain[-1]).abs().max() > 1e-4  # later chunks: the fused features change the stream


def test_eval_ablation_command_picks_rows_times_them_and_publishes(data_dir, tmp_path, capsys):
    "`endless-world eval ablation --rows … --fps-seconds … --publish …` on the stand-ins, in process."
    from endless_world.cli import main
    out, publish = tmp_path / "run", tmp_path / "results" / "ablation_long"
    argv = ["eval", "ablation", "--data-dir", str(data_dir), "--rows", "sink", "baseline", "--prompts", "1",
            "--seconds", "2", "--bin-seconds", "2", "--table-seconds", "2", "--reference-clips", "2",
            "--fps-seconds", "1", "--fps-repeats", "2", "--out-dir", str(out), "--publish", str(publish), "--quiet"]
    assert main(argv) == 0
    results = json.loads(publish.with_suffix(".json").read_text())
    assert list(results["rows"]) == ["ground truth", BASELINE, SINK]        # the table's order, not the argument's
    assert list(results["fps_pass"]["fps"]) == [BASELINE, SINK] and results["fps_pass"]["repeats"] == 2
    assert publish.with_suffix(".png").stat().st_size > 0
    assert "taking turns" in publish.with_suffix(".md").read_text()
    capsys.readouterr()
    assert main(argv[:4] + ["--rows", "sinks"]) == 2                        # an unknown row: one line, exit 2
    assert "unknown row" in capsys.readouterr().err
