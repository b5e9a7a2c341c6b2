"""End to end: `endless-world render` (the ground truth) writes a playable video and its JSON."""
import json
import re
import subprocess
import sys
from pathlib import Path

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


def test_make_demo_streams_the_shipped_generator(tmp_path):
    "`make demo`'s command and prompt (read from the Makefile) on the shipped generator, for one second."
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    prompt = re.search(r"^DEMO_PROMPT \?= (.+)$", makefile, re.M).group(1)
    assert 'generate --prompt "$(DEMO_PROMPT)" --seconds 60' in makefile
    out = tmp_path / "demo.mp4"
    done = subprocess.run([sys.executable, "-m", "endless_world.cli", "generate", "--prompt", prompt, "--seconds", "1",
                           "--out", str(out), "--quiet", "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["frames"] == 16 and info["kind"] == "toy_generator_dmd" and info["fusion"] is not None
    video = read_video(out)
    assert tuple(video.shape) == (16, 3, 64, 64) and float(video.std()) > 0.02   # frames, not a blank video
