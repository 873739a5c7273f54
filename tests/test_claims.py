"""course_lib.claims: la afirmación se imprime con ✓ o con la marca que busca make cuadernos-completos."""

from __future__ import annotations

import nbformat

from course_lib.claims import FAILED, SKIPPED, claim
from tests.completos import claim_lines


def test_claim_prints_the_mark_and_skips_in_fast_mode(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CURSO_RAPIDO", "0")
    claim(True, "sale bien", "(93 %)")
    claim(False, "sale mal")
    monkeypatch.setenv("CURSO_RAPIDO", "1")
    claim(False, "depende del entrenamiento")
    claim(False, "no depende del modo", fast_mode_too=True)
    assert capsys.readouterr().out.splitlines() == [
        "✓ sale bien (93 %)",
        f"{FAILED} sale mal",
        f"{SKIPPED} depende del entrenamiento",
        f"{FAILED} no depende del modo",
    ]


def test_claim_lines_reads_them_from_the_outputs() -> None:
    cell = nbformat.v4.new_code_cell("")
    text = f"✓ una\nalgo más\n{FAILED} dos\n{SKIPPED} tres\nmodelo: la casa  ✗\n"
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("✓ no cuenta"), cell])
    held, failed, skipped = claim_lines(nb)
    assert held == ["✓ una"] and failed == [f"{FAILED} dos"] and skipped == [f"{SKIPPED} tres"]
