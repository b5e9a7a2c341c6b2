"""Does the teacher read every word of the prompt? Its flow-matching loss with one attribute word swapped.

The toy teacher's samples show the prompt's lighting and palette but not its ground pattern or kind of objects
(scripts/teacher_cfg_experiment.py). Either the teacher does not use those words, or it uses them and cannot draw
what they ask. This measures the first: on the teacher's validation clips (its own latent cache), at fixed noise
levels and fixed noise, the flow-matching loss with the true prompt, with the prompt where one attribute's word is
replaced by the next value of that attribute, and with no text (zeros). A word the teacher reads raises the loss
when it is wrong; a word it ignores leaves it where it is.

    .venv/bin/python scripts/teacher_prompt_probe.py --teacher runs/toy_v2/teacher/teacher.safetensors \\
        --latents runs/toy_v2/teacher/latents/val.pt --share-latents runs/toy_v2/teacher/latents/train.pt

The shipped teacher, on the first VAE's latents (its val cache: `build_latent_data('runs/old_vae_latents', 'val', 64)`):

    .venv/bin/python scripts/teacher_prompt_probe.py --teacher data/toy_teacher.safetensors \
        --latents runs/old_vae_latents/val.pt --out benchmarks/results/teacher_prompt_probe_shipped.json

Writes benchmarks/results/teacher_prompt_probe.json: per noise level, the mean loss for each condition and its
increase over the true prompt (with the standard error over clips). Beside it, why a denoiser trained by mean
squared error may not bother: how much of the latents' variance each attribute's class means explain (the share a
perfect reader of that word could take off the loss at high noise), on the training cache given by --share-latents,
with the same share under shuffled labels as the floor that finite samples give.
"""
import argparse
import statistics
import time
from pathlib import Path

import torch

from endless_world.checkpoint import write_json
from endless_world.text import load_toy_text_encoder
from endless_world.train.latent_data import load_latent_data
from endless_world.train.ode_init import load_teacher
from endless_world.train.teacher import NUM_TRAIN_TIMESTEPS, add_noise, flow_target, null_context
from endless_world.world import ATTRIBUTES, WorldStyle

REPO = Path(__file__).resolve().parents[1]


def swapped(prompt: str, attribute: str) -> str:
    "`prompt` with `attribute`'s value replaced by the next one in `ATTRIBUTES` (cyclically)."
    style = WorldStyle.from_prompt(prompt)
    values = ATTRIBUTES[attribute]
    other = values[(values.index(getattr(style, attribute)) + 1) % len(values)]
    return WorldStyle(**{**style.__dict__, attribute: other}).prompt


@torch.no_grad()
def per_clip_loss(model, x0, context, sigma: float, noise) -> torch.Tensor:
    "Flow-matching MSE per clip [B] at one noise level, with the given noise."
    sigmas = torch.full((len(x0),), sigma)
    flow = model(add_noise(x0, noise, sigmas), sigmas * NUM_TRAIN_TIMESTEPS, context)
    return (flow.float() - flow_target(x0, noise).float()).pow(2).flatten(1).mean(1)


def between_class_share(latents: torch.Tensor, labels: torch.Tensor) -> float:
    "The share of the latents' variance (per element, averaged) that the class means of `labels` explain."
    centred = latents - latents.mean(0)
    explained = sum((labels == k).float().mean() * centred[labels == k].mean(0).pow(2) for k in labels.unique())
    return (explained.mean() / centred.pow(2).mean()).item()


def class_shares(path) -> dict:
    "{attribute: {share, shuffled}} on the latent cache at `path` (its prompts name each clip's attributes)."
    data = load_latent_data(path)
    latents, styles = data["latents"].float(), [WorldStyle.from_prompt(p) for p in data["prompts"]]
    shuffle = torch.randperm(len(latents), generator=torch.Generator().manual_seed(0))
    shares = {}
    for attribute, values in ATTRIBUTES.items():
        labels = torch.tensor([values.index(getattr(s, attribute)) for s in styles])
        shares[attribute] = dict(share=between_class_share(latents, labels),
                                 shuffled=between_class_share(latents, labels[shuffle]))
    return dict(latents=str(path), n_clips=len(latents), attributes=shares)


def main(teacher_path, latents_path, sigmas, n_clips: int, out: Path, threads: int, share_latents=None):
    torch.set_num_threads(threads)
    t0 = time.time()
    teacher, _ = load_teacher(teacher_path)
    data = load_latent_data(latents_path)
    x0, prompts = data["latents"][:n_clips].float(), data["prompts"][:n_clips]
    text = load_toy_text_encoder()
    conditions = {"true prompt": text(prompts)}
    conditions.update({f"{a} swapped": text([swapped(p, a) for p in prompts]) for a in ATTRIBUTES})
    conditions["no text"] = null_context(conditions["true prompt"])
    # does the text encoder tell the words apart? |e(swapped) - e(true)| / |e(true)| per attribute, mean over clips
    true = conditions["true prompt"].float()
    embedding_change = {a: ((conditions[f"{a} swapped"].float() - true).flatten(1).norm(dim=1)
                            / true.flatten(1).norm(dim=1)).mean().item() for a in ATTRIBUTES}
    print("relative change of the text embedding with one word swapped:",
          {a: round(v, 4) for a, v in embedding_change.items()})
    result = dict(teacher=str(teacher_path), latents=str(latents_path), n_clips=len(x0),
                  embedding_change=embedding_change, levels={})
    for sigma in sigmas:
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
        losses = {name: per_clip_loss(teacher, x0, c, sigma, noise) for name, c in conditions.items()}
        base = losses["true prompt"]
        rows = {}
        for name, loss in losses.items():
            delta = (loss - base).tolist()
            rows[name] = dict(loss=loss.mean().item(), increase=statistics.mean(delta),
                              increase_se=statistics.stdev(delta) / len(delta) ** 0.5 if len(delta) > 1 else 0.0)
        result["levels"][f"{sigma:g}"] = rows
        print(f"sigma {sigma:g}: " + ", ".join(f"{n} {r['loss']:.4f} ({r['increase']:+.4f})" for n, r in rows.items()),
              flush=True)
    if share_latents is not None:
        result["between_class_share"] = class_shares(share_latents)
        shares = result["between_class_share"]["attributes"]
        print("between-class share of the latents' variance (shuffled labels):",
              {a: f"{r['share']:.4f} ({r['shuffled']:.4f})" for a, r in shares.items()})
    result["minutes"] = round((time.time() - t0) / 60, 2)
    write_json(out, result)
    print(f"wrote {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", type=Path, required=True, help="the teacher checkpoint")
    ap.add_argument("--latents", type=Path, required=True, help="a latent cache of its VAE (e.g. its val.pt)")
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.1, 0.3, 0.5, 0.7, 0.9], help="noise levels")
    ap.add_argument("--clips", type=int, default=64, help="clips of the cache (default: 64)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/teacher_prompt_probe.json")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    ap.add_argument("--share-latents", type=Path, default=None,
                    help="a training latent cache to measure each attribute's between-class share on (e.g. train.pt)")
    a = ap.parse_args()
    main(a.teacher, a.latents, a.sigmas, a.clips, a.out, a.threads, a.share_latents)
