"""Cada cuaderno de soluciones se ejecuta de principio a fin en modo rápido, sin errores y sin
afirmaciones incumplidas (las que no dependen del entrenamiento se comprueban también aquí)."""

from __future__ import annotations

import time

import nbclient
import pytest

from tests.completos import claim_lines
from tests.cuadernos import ASSIGNMENTS, nbgrader_meta, read, solution_path

pytestmark = pytest.mark.cuadernos


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_top_to_bottom(assignment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSO_RAPIDO", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path = solution_path(assignment)
    nb = read(path)
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    _, failed, _ = claim_lines(nb)
    assert not failed, failed
    setup = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "configuracion")
    setup_output = "".join(o.get("text", "") for o in setup.outputs if o.output_type == "stream")
    assert "modo rápido" in setup_output, "la celda de configuración debe anunciar el modo rápido"
    print(f"{assignment}: {elapsed:.1f} s en modo rápido")
