"""End to end: `endless-world render` (what `make demo` runs) writes a playable video and its JSON."""
import json
import subprocess
import sys

from endless_world.media import read_video


def render(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "endless_world.cli", "render", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def test_render_writes_video(tmp_path):
    done = render("--out-dir", str(tmp_path), "--seed", "2", "--seconds", "0.5", "--size", "32", "48", "--quiet")
    assert done.returncode == 0, done.stderr
    info = json.loads((tmp_path / "world_seed2.json").read_text())
    assert info["frames"] == 8 and info["prompt"] in done.stdout
    video = read_video(tmp_path / "world_seed2.mp4")
    assert tuple(video.shape) == (8, 3, 32, 96)  # RGB | depth
    assert float(video.std()) > 0.02             # not a blank video


def test_render_rejects_bad_seconds(tmp_path):
    done = render("--out-dir", str(tmp_path), "--seconds", "-1")
    assert done.returncode == 2 and "--seconds" in done.stderr  # argparse's error, before anything runs
    assert list(tmp_path.iterdir()) == []
