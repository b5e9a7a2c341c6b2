"""The real-time loop's GPU measurement runs nowhere in CI: a tiny CPU run of benchmarks/gpu_stream.py with the 3D
branch and the overlapped decode keeps those sections from rotting, and pins what they must show on any device."""
import importlib.util
import json
from pathlib import Path

from endless_world.realtime import REALTIME_CADENCE

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_stream.py"


def test_gpu_stream_measures_the_3d_branch_and_the_overlapped_decode(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_stream", BENCH)
    gpu_stream = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_stream)
    out, chunks = tmp_path / "gpu_stream.json", 9
    gpu_stream.main(["--device", "cpu", "--tiny", "--chunks", str(chunks), "--vggt", "--overlap", "--out", str(out)])
    result = json.loads(out.read_text())
    assert sorted(result["vggt"]["frames"]) == ["1", "12", "4"], result["vggt"]
    every = REALTIME_CADENCE["every"]
    # VGGT before chunk 1, then every `every` chunks; every=1: before every chunk that has frames; none without it
    runs = {name: result[name]["vggt_runs"] for name in ("stream_plain", "stream_3d", "stream_3d_every1")}
    assert runs == dict(stream_plain=0, stream_3d=len(range(1, chunks, every)), stream_3d_every1=chunks - 1), runs
    assert all(result[name]["finite"] for name in runs)
    assert all(len(result[name]["chunk_s"]) == chunks for name in runs)
    overlap = result["overlap"]
    assert overlap["frames_max_abs_diff"] == 0.0, overlap                 # overlapped = sequential, frame for frame
    assert {k for k in overlap if k.endswith(("sequential", "overlapped"))} == {
        "plain_sequential", "plain_overlapped", "3d_sequential", "3d_overlapped"}
    assert all(len(overlap[k]["chunk_s"]) == chunks and overlap[k]["fps"] > 0 for k in overlap if "_" in k
               and isinstance(overlap[k], dict))
