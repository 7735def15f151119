"""The notebooks in ``notebooks/`` and the README example run; notebooks carry no outputs."""

from __future__ import annotations

import ast
import json
import tempfile
from pathlib import Path

import matplotlib
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
# notebooks that take more than ~20 s
SLOW = {"04_fusion.ipynb"}


def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW else p for p in NOTEBOOKS],
    ids=lambda p: p.name,
)
def test_notebook_runs(path, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    # notebooks that write into tempfile.mkdtemp() (never the repository) write here too
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    namespace: dict = {}
    for source in _code_cells(path):
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, str(path), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(path), "eval"), namespace)
            repr(value)  # what Jupyter shows must not fail
            if hasattr(value, "_repr_html_"):
                assert value._repr_html_()
    assert any(tmp_path.iterdir()), "the notebook wrote nothing"


def test_readme_library_snippet_runs(tmp_path, monkeypatch):
    # the README's "Library use" block, unmodified, next to a demo case export
    import re

    import gridgeo as gg

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Library use\n\n```python\n(.*?)```", readme, re.S)
    assert block, "README has no 'Library use' python block"
    monkeypatch.chdir(tmp_path)
    gg.datasets.demo_reports(3000, seed=2).to_csv("reports.csv", index=False)
    exec(compile(block.group(1), "README.md", "exec"), {})
    assert Path("hotspots.html").stat().st_size > 0
    assert Path("report.html").stat().st_size > 0
