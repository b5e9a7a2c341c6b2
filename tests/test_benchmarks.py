"""The GPU benchmark runs nowhere in CI (no GPU), so a tiny CPU run keeps it from rotting: it must run end to end
and its optimised paths must agree with the reference paths it times against."""
import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_stream.py"


def test_gpu_stream_benchmark_runs_tiny_on_the_cpu(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_stream", BENCH)
    gpu_stream = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_stream)
    out = tmp_path / "gpu_stream.json"
    gpu_stream.main(["--device", "cpu", "--tiny", "--chunks", "4", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["agreement_max_abs"] == {"kv": 0.0, "stream": 0.0}, result["agreement_max_abs"]
