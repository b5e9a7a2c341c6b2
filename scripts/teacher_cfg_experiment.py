"""How strongly must the teacher be guided to draw what the prompt asks? A sweep of the CFG scale (and of word
guidance, `09_teacher` section 6b), measured.

The toy teacher's samples read the prompt's lighting and palette almost perfectly but its ground pattern and objects
at or below chance (`endless-world eval quality`), while ground truth through the same VAE reads 80 %. Guidance is
the knob that trades diversity for prompt adherence, and the teacher's scale (3, Self-Forcing's real score) is also
what the ODE pairs and DMD's real score use. So this samples the teacher at several scales on the same test prompts
and seeds and measures each as `eval quality` measures a row (FD in the judge's and the toy VGGT's features,
attribute accuracy per frame and per clip):

    .venv/bin/python scripts/teacher_cfg_experiment.py --teacher runs/toy_v2/teacher/teacher.safetensors \\
        --vae runs/toy_vae --classifier runs/attributes_v2/toy_attributes.safetensors --scales 1 3 6 9

`--word-scales` adds word guidance at each CFG scale: w·Σ_a (v_cond − mean of the prompt with attribute a's other
values), for the attributes of `--words` (default: ground and objects); w = 0 is plain CFG:

    .venv/bin/python scripts/teacher_cfg_experiment.py --teacher data/toy_teacher.safetensors --scales 3 \\
        --word-scales 0 4 --out benchmarks/results/teacher_word_guidance_shipped.json

Writes benchmarks/results/teacher_cfg.json by default (one row per setting, `quality_report`'s format).
"""
import argparse
import time
from pathlib import Path

import torch

from endless_world.attributes import load_attribute_classifier
from endless_world.checkpoint import write_json
from endless_world.quality import format_report, quality_report, teacher_sampler
from endless_world.train.latent_data import world_prompts
from endless_world.train.teacher import WORD_ATTRIBUTES
from endless_world.vae import load_toy_vae

REPO = Path(__file__).resolve().parents[1]


def row_name(scale: float, word_scale: float, words) -> str:
    return f"teacher, CFG {scale:g}" + (f", word guidance {word_scale:g} ({'+'.join(words)})" if word_scale else "")


def main(teacher, vae_path, classifier_path, scales, word_scales, words, n_prompts: int, out: Path, threads: int):
    torch.set_num_threads(threads)
    t0 = time.time()
    vae, judge = load_toy_vae(vae_path), load_attribute_classifier(classifier_path)[0]
    samplers = {row_name(s, w, words): teacher_sampler(teacher, guidance_scale=s, vae=vae, word_scale=w,
                                                       word_attributes=words)
                for s in scales for w in word_scales}
    report = quality_report(samplers, world_prompts("test", n_prompts), (0,), None, classifier=judge, vae=vae,
                            sources={"vae": vae_path, "classifier": classifier_path})
    report["settings"].update(teacher=str(teacher), scales=list(scales), minutes=round((time.time() - t0) / 60, 1),
                              **({"word_scales": list(word_scales), "words": list(words)} if any(word_scales) else {}))
    write_json(out, report)
    print(format_report(report))
    print(f"wrote {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", type=Path, required=True, help="the teacher checkpoint")
    ap.add_argument("--vae", type=Path, default=None, help="the toy VAE it was trained on (default: shipped)")
    ap.add_argument("--classifier", type=Path, default=None, help="the attribute judge (default: shipped)")
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 3.0, 6.0, 9.0], help="CFG scales to sample at")
    ap.add_argument("--word-scales", type=float, nargs="+", default=[0.0],
                    help="word-guidance scales w at each CFG scale (default: 0, plain CFG)")
    ap.add_argument("--words", nargs="+", default=list(WORD_ATTRIBUTES), choices=["lighting", "palette", "objects",
                    "ground"], help="the attributes word guidance pushes (default: ground objects)")
    ap.add_argument("--prompts", type=int, default=16, help="the first N test prompts (default: 16, as eval quality)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/teacher_cfg.json", help="the JSON to write")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    a = ap.parse_args()
    main(a.teacher, a.vae, a.classifier, a.scales, a.word_scales, a.words, a.prompts, a.out, a.threads)
