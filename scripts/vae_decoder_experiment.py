"""Experiment: train the shipped toy VAE's decoder alone, its encoder frozen (issue 8's 28 dB goal).

Every model downstream (teacher, students, critic) learned the shipped VAE's latents, so retraining the encoder
would make them all stale; the decoder only turns latents into pixels. This warm-starts from data/toy_vae, trains
the decoder (and post_quant_conv) on 81-frame windows of a fresh pool of training clips with `decoder_only=True`,
then measures validation PSNR (benchmarks/vae.py's streaming decode, 16 val clips) of the shipped VAE and of the
shipped encoder + the new decoder, and writes benchmarks/results/vae_decoder.json. The architecture, so the decode
speed, is unchanged. Resumable: rerun the same command after a stop.
Run: `.venv/bin/python scripts/vae_decoder_experiment.py [--steps 800] [--threads 1]` (the shipped result);
`--n-clips 1 --lr 1e-3 --steps 300 --minutes 22 --tag one_clip` fits the decoder to one training clip, in
runs/exp_vae_decoder_one_clip, and writes benchmarks/results/vae_decoder_one_clip.json (nb 01a); with --minutes, a
run stopped early is measured as it stands (`finished: false`, its steps recorded). Every result also holds the PSNR
of the first training clips (`train_clips_psnr_db`): how well the decoder fits what it saw.
`--decoder-width 24 --lr 1e-3 --warmup 50 --steps 3000 --tag wide24` trains a new decoder 1.5x as wide (decodes at
0.71x the speed, benchmarks/results/vae_tradeoff.json) from scratch behind the shipped encoder, so the latents, and
every model trained on them, stay as they are.
`--latents mean --tag mean` trains the shipped decoder on the posterior means (what every model downstream reads)
instead of samples from the posterior (the shipped recipe): does decoding without the training noise gain dB?
"""
import argparse
import json
import sys
from pathlib import Path

import torch

from endless_world.checkpoint import DATA_DIR, atomic_torch_save, load_training_state, write_json
from endless_world.train.toy_vae import stage_from_vae, train_toy_vae
from endless_world.vae import build_vae, load_toy_vae, load_vae_state_dict, toy_vae_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from vae import stream_mse, val_psnr  # noqa: E402


def pool_psnr(vae, pool: torch.Tensor, n: int = 4) -> float:
    "Mean PSNR over the first `n` training clips of a uint8 pool [N, F, 3, H, W]: how well the decoder fits them."
    mses = [stream_mse(vae, pool[i:i + 1].float() / 255).mean() for i in range(min(n, len(pool)))]
    return sum(float(10 * torch.log10(1 / m)) for m in mses) / len(mses)


def is_encoder_key(key: str) -> bool:
    "Whether a VAE state-dict key belongs to the part that makes the latents (frozen by `decoder_only=True`)."
    return key.split(".")[0] in ("encoder", "quant_conv")


def start_with_new_decoder(shipped, start: Path, width: int, seed: int = 0) -> Path:
    "A step-0 checkpoint: `shipped`'s encoder and quant_conv, a freshly initialised decoder `width` channels wide."
    config = {k: shipped.config[k] for k in toy_vae_config()} | dict(decoder_base_dim=width)
    torch.manual_seed(seed)
    model = build_vae(config).state_dict()
    model.update({k: v for k, v in shipped.state_dict().items() if is_encoder_key(k)})
    start.parent.mkdir(parents=True, exist_ok=True)
    return atomic_torch_save(dict(model=model, step=0, config=json.dumps(config), source="data/toy_vae encoder"),
                             start)


def main(steps=800, lr=2e-4, warmup=20, n_clips=192, threads=1, val_clips=16, minutes=None, frames=81, batch=1,
         tag=None, decoder_width=None, latents="sample"):
    torch.set_num_threads(threads)
    run = REPO / "runs" / ("exp_vae_decoder" + (f"_{tag}" if tag else ""))
    start = run / "start" / "ckpt.pt"
    shipped = load_toy_vae()                                # data/toy_vae, float32
    if not start.exists():
        if decoder_width is None:
            stage_from_vae(DATA_DIR / "toy_vae", start.parent, 0)
        else:
            start_with_new_decoder(shipped, start, decoder_width)
    config = json.loads(load_training_state(start)["config"])     # the shipped architecture, or a wider decoder
    if decoder_width is not None and config["decoder_base_dim"] != decoder_width:
        sys.exit(f"{start}: its decoder is {config['decoder_base_dim']} wide, not --decoder-width {decoder_width}; "
                 "use another --tag")
    train_toy_vae(run / "decoder", steps=steps, batch=batch, frames=frames, lr=lr, warmup=warmup, config=config,
                  n_clips=n_clips, pool_frames=81, init_from=start, decoder_only=True, max_minutes=minutes,
                  latents=latents)
    state = load_training_state(run / "decoder" / "ckpt.pt")
    pool = load_training_state(run / "decoder" / "pool.pt")     # the training clips, uint8 [N, 81, 3, H, W]
    finished = int(state["step"]) >= steps
    if not finished:
        print(f"stopped at step {state['step']} of {steps}: run again to resume")
        if minutes is None:
            return None
    # the shipped config (latent statistics included) with the trained decoder's width
    tuned = build_vae({k: v for k, v in shipped.config.items() if not k.startswith("_")}
                      | dict(decoder_base_dim=config["decoder_base_dim"])).eval()
    load_vae_state_dict(tuned, {k: v.float() for k, v in state["model"].items()}, source=str(run / "decoder"))
    before, after = shipped.state_dict(), tuned.state_dict()
    encoder_kept = all(torch.equal(before[k], after[k]) for k in before if is_encoder_key(k))
    result = dict(steps=steps, trained_steps=int(state["step"]), finished=finished, frames=frames, batch=batch, lr=lr,
                  decoder_base_dim=config["decoder_base_dim"], decoder_from_scratch=decoder_width is not None,
                  warmup=warmup, n_clips=n_clips, threads=threads, latents=latents, encoder_unchanged=encoder_kept,
                  shipped=val_psnr(shipped, val_clips), decoder_trained=val_psnr(tuned, val_clips),
                  train_clips_psnr_db=dict(shipped=pool_psnr(shipped, pool), decoder_trained=pool_psnr(tuned, pool)),
                  note="data/toy_vae's encoder with its decoder trained on alone (decoder_only=True) on "
                       f"{frames}-frame windows; val PSNR as benchmarks/vae.py measures it (streaming decode, chunks "
                       "of 3 latent frames)")
    write_json(REPO / "benchmarks" / "results" / ("vae_decoder" + (f"_{tag}" if tag else "") + ".json"), result)
    print({k: (v.get("psnr_db_mean", v) if isinstance(v, dict) else v) for k, v in result.items()})
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=800, help="decoder steps (the cosine schedule's length)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    ap.add_argument("--minutes", type=float, default=None, help="stop (resumably) after this long")
    ap.add_argument("--frames", type=int, default=81, help="frames per training window, 1 + 4k (default: 81)")
    ap.add_argument("--batch", type=int, default=1, help="windows per step (default: 1)")
    ap.add_argument("--lr", type=float, default=2e-4, help="peak learning rate (default: 2e-4)")
    ap.add_argument("--warmup", type=int, default=20, help="steps of linear learning-rate warm-up (default: 20)")
    ap.add_argument("--tag", default=None, help="a name for another run folder and result file")
    ap.add_argument("--n-clips", type=int, default=192, help="training clips to render (default: 192; 1: can the "
                    "decoder fit one clip?)")
    ap.add_argument("--decoder-width", type=int, default=None, help="train a new decoder this wide (base "
                    "channels; the shipped one has 16) from scratch behind the shipped encoder; default: tune the "
                    "shipped decoder")
    ap.add_argument("--latents", choices=("sample", "mean"), default="sample", help="what the decoder reads in "
                    "training: samples z = mu + sigma*eps (the shipped recipe) or the means mu (default: sample)")
    a = ap.parse_args()
    main(a.steps, lr=a.lr, warmup=a.warmup, threads=a.threads, minutes=a.minutes, frames=a.frames, batch=a.batch,
         tag=a.tag, n_clips=a.n_clips, decoder_width=a.decoder_width, latents=a.latents)
