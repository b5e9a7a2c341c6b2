"""The README's animation: a generated video (e.g. `make demo`'s out/demo.mp4), every N-th frame, as a GIF."""
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from endless_world.media import read_video, to_video_array


def video_to_gif(video: Path, out: Path, every: int = 4, scale: int = 2, fps: float = 16) -> dict:
    "Every `every`-th frame of `video`, `scale`× larger (nearest), played at `fps`: the stream sped up `every`×."
    frames = to_video_array(read_video(video)[::every])                       # uint8 [N, H, W, 3]
    frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    out.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0, optimize=True)
    return dict(gif=str(out), frames=len(images), speedup=every, bytes=out.stat().st_size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python scripts/demo_gif.py", description=__doc__)
    parser.add_argument("video", type=Path, help="the mp4 to turn into a GIF (e.g. out/demo.mp4)")
    parser.add_argument("out", type=Path, help="the GIF to write (e.g. docs/demo.gif)")
    parser.add_argument("--every", type=int, default=4, help="keep every N-th frame: N times real time (default: 4)")
    parser.add_argument("--scale", type=int, default=2, help="upscale factor, nearest neighbour (default: 2)")
    args = parser.parse_args()
    print(video_to_gif(args.video, args.out, args.every, args.scale))
