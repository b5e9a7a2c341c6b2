"""Store notebook outputs the way JupyterLab holds them, so that opening a notebook in Lab and saving it unchanged
writes the same bytes. Lab's output model (OutputAreaModel.fromJSON in @jupyterlab/outputarea) merges consecutive
stream outputs of the same name and resolves \\r and \\b; nbconvert/nbclient store each stream message separately.

    python scripts/lab_normalize.py [NOTEBOOK ...]      (default: every nbs/*.ipynb; run nbdev_clean after it)
    python scripts/lab_normalize.py --check [...]      (exit 1 and name the notebooks Lab would change)
"""
import re
import sys
from pathlib import Path

import nbformat


def lab_text(text: str) -> str:
    "Lab's processText: \\r moves back to the start of the line (later text overwrites), \\b deletes a character."
    if '\r' not in text and '\b' not in text:
        return text
    out, pos = '', 0
    for piece, sep in re.findall(r'([^\n\b\r]*)([\n\b\r]?)', text):
        out = out[:pos] + piece + out[pos + len(piece):]
        pos += len(piece)
        if sep == '\b' and pos > 0 and out[pos - 1] != '\n':
            out, pos = out[:pos - 1] + out[pos + 1:], pos - 1   # as Lab does: the character under the cursor goes too
        elif sep == '\r':
            while pos > 0 and out[pos - 1] != '\n':
                pos -= 1
        elif sep == '\n':
            out, pos = out + '\n', len(out) + 1
    return out


def lab_outputs(outputs: list) -> list:
    "Consecutive stream outputs of one name merged into one, their text resolved as Lab shows it."
    merged = []
    for out in outputs:
        last = merged[-1] if merged else None
        if out.output_type == 'stream' and last and last.output_type == 'stream' and last.name == out.name:
            merged[-1].text = lab_text(merged[-1].text + out.text)
            continue
        if out.output_type == 'stream':
            out.text = lab_text(out.text)
        merged.append(out)
    return merged


def main(args: list) -> int:
    check = '--check' in args
    paths = [Path(a) for a in args if a != '--check'] or sorted(Path('nbs').glob('*.ipynb'))
    changed = []
    for path in paths:
        text = path.read_text(encoding='utf-8')
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        for cell in nb.cells:
            if cell.cell_type == 'code':
                cell.outputs = lab_outputs(cell.outputs)
        new = nbformat.writes(nb) + '\n'
        if new != text:
            changed.append(str(path))
            if not check:
                path.write_text(new, encoding='utf-8')
    if changed:
        print(('JupyterLab would change: ' if check else 'normalised: ') + ', '.join(changed))
    return 1 if check and changed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
