"""Write README.md from nbs/index.ipynb with nbconvert (Quarto is not installable here).

Cells marked `#| hide` are dropped, `#| echo: false` cells show only their output, and nbdev
directive lines (`#| ...`) are removed; links relative to nbs/ (`../x`) are made relative to the root."""
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter

DIRECTIVE = re.compile(r"^\s*#\s*\|.*$\n?", re.M)


def readme_text(nb_path: Path) -> str:
    nb = nbformat.read(nb_path, as_version=4)
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "code" and re.search(r"^\s*#\s*\|\s*hide\b", cell.source, re.M):
            continue
        if cell.cell_type == "code" and re.search(r"^\s*#\s*\|\s*echo:\s*false\b", cell.source, re.M):
            shown = [o.get("data", {}).get("text/markdown") or o.get("text", "") for o in cell.get("outputs", [])]
            kept.append(nbformat.v4.new_markdown_cell("\n".join(s for s in shown if s)))
            continue
        if cell.cell_type == "code":
            cell.source = DIRECTIVE.sub("", cell.source).strip()
            if not cell.source:
                continue
        kept.append(cell)
    nb.cells = kept
    nb.metadata.setdefault("language_info", {"name": "python"})  # fenced code blocks say python
    body, _ = MarkdownExporter().from_notebook_node(nb)
    body = body.replace("](../", "](")     # links relative to nbs/ (e.g. ../docs/demo.gif) become the README's
    header = "<!-- Generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file. -->\n\n"
    return header + re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


def main(root: Path = Path(".")) -> None:
    (root / "README.md").write_text(readme_text(root / "nbs" / "index.ipynb"), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
