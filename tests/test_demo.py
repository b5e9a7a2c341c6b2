"""End to end: the demo command writes a playable video and its JSON."""
import json
import subprocess
import sys

from endless_world.media import read_video


def test_demo_cli_writes_video(tmp_path):
    cmd = [sys.executable, "-m", "endless_world.demo", "--out", str(tmp_path), "--seed", "2",
           "--seconds", "0.5", "--size", "32", "48"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    info = json.loads((tmp_path / "world_seed2.json").read_text())
    assert info["frames"] == 8 and info["prompt"] in done.stdout
    video = read_video(tmp_path / "world_seed2.mp4")
    assert tuple(video.shape) == (8, 3, 32, 96)  # RGB | depth
    assert float(video.std()) > 0.02             # not a blank video


def test_demo_cli_rejects_bad_seconds(tmp_path):
    done = subprocess.run([sys.executable, "-m", "endless_world.demo", "--out", str(tmp_path), "--seconds", "-1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "seconds" in done.stderr
