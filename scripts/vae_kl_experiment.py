"""Experiment: is the KL weight what caps the toy VAE (issue 8's 28 dB goal)?

Every shipped stage trained with L1 + beta * KL, beta = 1e-4 on the element-mean KL. Written as sums over a clip
(as the latent-diffusion autoencoder behind Stable Diffusion weighs them, kl_weight 1e-6), that is
beta * (pixels / latent values) = 1e-4 * 24 = 2.4e-3 per latent value against each pixel's L1: about 2,400 times
as strong. The posterior stayed wide (its
channels' signal/noise median 3.9, nb 01a), so the encoder can only store what survives that noise. This goes on
training the whole shipped VAE (encoder and decoder) at another beta, with the shipped recipe's last stage otherwise
(81-frame windows, batch 1, lr 2e-4 with a 20-step ramp and a cosine, a fresh pool of 192 training clips), and
measures it every `--eval-every` steps: validation PSNR as benchmarks/vae.py measures it (16 val clips, streaming
decode) and each latent channel's posterior signal/noise (scripts/vae_error_map.py's `channel_snr`, on 9-frame val
windows). The same command at --kl-weight 1e-4 is the control: the same training at the shipped beta.

    .venv/bin/python scripts/vae_kl_experiment.py --kl-weight 1e-4                 # the control
    .venv/bin/python scripts/vae_kl_experiment.py --kl-weight 1e-6
    .venv/bin/python scripts/vae_kl_experiment.py --kl-weight 1e-6 --latents mean  # no noise in training

(the measured arms: 1,000 steps each, measured every 250, the three side by side on two cores.)

Resumable: each arm trains in runs/exp_vae_kl/beta_<kl-weight>[_mean]/ and stores its measured points in
benchmarks/results/vae_kl.json; run the same command again after a stop (`--minutes` stops it on purpose).
A new encoder changes every latent, so nothing trained downstream (teacher, students) would stay valid: this asks
whether 28 dB is within reach, it ships nothing.
"""
import argparse
import fcntl
import json
import sys
import time
from pathlib import Path

import torch

from endless_world.checkpoint import DATA_DIR, atomic_torch_save, load_training_state, write_json
from endless_world.train.toy_vae import render_clip_pool, stage_from_vae, train_toy_vae
from endless_world.vae import build_vae, load_toy_vae, load_vae_state_dict

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "scripts"))
from vae import val_psnr  # noqa: E402
from vae_shape_experiment import training_curve, window_psnr  # noqa: E402

RUNS = REPO / "runs" / "exp_vae_kl"
OUT = REPO / "benchmarks" / "results" / "vae_kl.json"
# the shipped recipe's last stage (stage 5: whole clips, lr 2e-4), on a fresh pool like scripts/vae_decoder_experiment
RECIPE = dict(frames=81, batch=1, lr=2e-4, warmup=20, n_clips=192, pool_frames=81, seed=0)


def measure(vae, val_clips: int) -> dict:
    "Validation PSNR (streaming decode) and each latent channel's posterior signal/noise."
    t0 = time.time()
    psnr = val_psnr(vae, val_clips)
    _, snr = window_psnr(vae, val_clips)
    return dict(val_psnr_db=psnr["psnr_db_mean"], val_psnr_db_frames_41_to_80=psnr["psnr_db_frames_41_to_80"],
                channel_snr_median=round(float(torch.tensor(snr).median()), 3), channel_snr=snr,
                per_clip=psnr["per_clip"], eval_minutes=round((time.time() - t0) / 60, 1))


def update_result(change, out: Path | None = None, runs: Path | None = None) -> dict:
    "Apply `change` to the results JSON `out` (OUT) under a lock in `runs` (RUNS): arms run side by side, one file."
    out, runs = out or OUT, runs or RUNS
    runs.mkdir(parents=True, exist_ok=True)
    with open(runs / "results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = json.loads(out.read_text()) if out.exists() else {}
        change(result)
        write_json(out, result)
    return result


def train_to(run: Path, stop: int, config: dict, **train) -> torch.nn.Module | None:
    "Train (or resume) the VAE in `run` up to step `stop`: the VAE there, or None when it stopped before (rerun)."
    train_toy_vae(run, stop_at=stop, config=config, **train)
    state = load_training_state(run / "ckpt.pt")
    if int(state["step"]) < stop:
        print(f"stopped at step {state['step']}: run the same command again to resume", flush=True)
        return None
    vae = build_vae(config).eval()
    load_vae_state_dict(vae, state["model"], source=str(run / "ckpt.pt"))
    return vae


def add_point(points: list, point: dict):
    "Put `point` among an arm's points, in step order (replacing one of the same step)."
    points[:] = sorted([p for p in points if p["step"] != point["step"]] + [point], key=lambda p: p["step"])


def main(kl_weight: float, steps: int = 1000, eval_every: int = 250, minutes: float | None = None,
         val_clips: int = 16, threads: int = 1, latents: str = "sample"):
    torch.set_num_threads(threads)
    t0 = time.time()
    arm = f"{kl_weight:g}" + ("_mean" if latents == "mean" else "")
    run = RUNS / f"beta_{arm}"
    start = RUNS / "start" / "ckpt.pt"                 # data/toy_vae as a step-0 checkpoint, shared by every arm
    if not start.exists():
        stage_from_vae(DATA_DIR / "toy_vae", start.parent, 0)
    pool_path = RUNS / "pool.pt"                       # one pool of training clips for every arm
    if not pool_path.exists():
        atomic_torch_save(render_clip_pool(RECIPE["n_clips"], RECIPE["pool_frames"]), pool_path)
    pool = load_training_state(pool_path)
    config = json.loads(load_training_state(start)["config"])

    def start_arm(result):
        result.update(recipe=RECIPE | dict(threads=threads, val_clips=val_clips, start="data/toy_vae"),
                      note="the whole shipped toy VAE trained on at another KL weight (beta on the element-mean KL; "
                           "the shipped one is 1e-4); val PSNR as benchmarks/vae.py measures it (16 val clips, "
                           "streaming decode); channel_snr: spread of the posterior means over 9-frame val windows "
                           "/ their mean std, per latent channel")
        result.setdefault("arms", {}).setdefault(arm, dict(kl_weight=kl_weight, latents=latents, steps=steps,
                                                                  points=[]))

    row = update_result(start_arm)["arms"][arm]
    if row["steps"] != steps:
        sys.exit(f"{OUT}: arm {arm} was run with --steps {row['steps']}; resume with it (or remove {run})")
    if "shipped" not in json.loads(OUT.read_text()):
        shipped = measure(load_toy_vae(), val_clips)
        update_result(lambda result: result.setdefault("shipped", shipped))
    done = {p["step"] for p in row["points"]}
    for stop in range(eval_every, steps + 1, eval_every):
        if stop in done:
            continue
        left = None if minutes is None else minutes - (time.time() - t0) / 60
        if left is not None and left <= 0:
            break
        vae = train_to(run, stop, config, pool=pool, steps=steps, init_from=start, kl_weight=kl_weight,
                       latents=latents, max_minutes=left, **{k: v for k, v in RECIPE.items()
                                                             if k not in ("n_clips", "pool_frames")})
        if vae is None:
            break
        # the mean training L1 of steps stop-49 .. stop
        l1 = next(c["l1"] for c in training_curve(run / "log.jsonl", every=50) if c["step"] == stop)
        point = dict(step=stop, train_l1_last_50=l1, **measure(vae, val_clips))
        row = update_result(lambda result, point=point: add_point(result["arms"][arm]["points"], point))["arms"][arm]
        print(f"beta {arm} step {stop}: val {point['val_psnr_db']:.2f} dB, channel signal/noise median "
              f"{point['channel_snr_median']:.2f}, train L1 {point['train_l1_last_50']:.4f}", flush=True)
    return row


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kl-weight", type=float, required=True, help="beta on the element-mean KL (shipped: 1e-4)")
    ap.add_argument("--steps", type=int, default=1000, help="length of the cosine schedule (default: 1000)")
    ap.add_argument("--eval-every", type=int, default=250, help="measure every this many steps (default: 250)")
    ap.add_argument("--minutes", type=float, default=None, help="stop (resumably) after this long")
    ap.add_argument("--val-clips", type=int, default=16, help="val clips to measure (default: 16, as vae.py)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    ap.add_argument("--latents", choices=("sample", "mean"), default="sample", help="what the decoder reads in "
                    "training: samples z = mu + sigma*eps (the shipped recipe) or the means mu, as every model "
                    "downstream reads them (no noise at all: the KL then only keeps the means near 0)")
    a = ap.parse_args()
    main(a.kl_weight, a.steps, a.eval_every, a.minutes, a.val_clips, a.threads, a.latents)
