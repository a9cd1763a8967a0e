"""Every notebook in ``notebooks/`` executes from a clean copy, and is committed without outputs.

Each notebook runs with nbclient on the ``python3`` kernel in its own copy under ``tmp_path``
(the notebooks write only under their working directory, e.g. ``reports/``). The whole module
takes about 75 s on 2 cores; the execution tests are marked ``slow`` (deselect with ``-m "not slow"``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300

def _kernel_available() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return False
    return True


def test_the_five_numbered_notebooks_are_there():
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_quickstart_cdnow.ipynb",
        "02_choosing_a_churn_definition.ipynb",
        "03_survival_and_lifecycle_stages.ipynb",
        "04_warning_score_dealership.ipynb",
        "05_quarterly_run.ipynb",
    ]
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert name in readme


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_uses_the_public_api(path: Path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    assert book.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in book.cells if c.cell_type == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, "commit notebooks without outputs"
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("import ", "from ")):
                assert "._" not in line and "import _" not in line, f"private import: {line}"
                assert line.split()[1].split(".")[0] in {"survchurn", "json", "pathlib", "numpy", "pandas"}, line
    assert any(c.cell_type == "markdown" for c in book.cells)


def test_quarterly_notebook_has_a_papermill_parameters_cell():
    book = nbformat.read(NOTEBOOK_DIR / "05_quarterly_run.ipynb", as_version=4)
    first_code = next(c for c in book.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])
    assert 'as_of = "1998-06-30"' in first_code.source


@pytest.mark.slow
@pytest.mark.skipif(not _kernel_available(), reason="no 'python3' Jupyter kernel installed (pip install ipykernel)")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, tmp_path: Path):
    work = tmp_path / path.stem
    work.mkdir()
    shutil.copy(path, work / path.name)
    book = nbformat.read(work / path.name, as_version=4)
    client = nbclient.NotebookClient(book, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
    # results show as HTML and plots appear inline, without extra calls
    assert any("text/html" in o.get("data", {}) for o in outputs)
    if path.name != "05_quarterly_run.ipynb":
        assert any("image/png" in o.get("data", {}) for o in outputs), "no inline plot"
    # nothing was written next to the committed notebooks
    written = {p.relative_to(work).parts[0] for p in work.rglob("*")} - {path.name}
    assert written <= {"reports", "quarterly"}, written
    if path.name == "05_quarterly_run.ipynb":
        files = sorted(p.relative_to(work).as_posix() for p in (work / "quarterly" / "reports").rglob("*.*"))
        assert "quarterly/reports/1998Q1/report.html" in files
        assert "quarterly/reports/1998Q2/manifest.json" in files
    if path.name == "01_quickstart_cdnow.ipynb":
        assert (work / "reports" / "demo" / "report.html").is_file()
