"""Piezas de nbgrader propias del curso (solo las usa quien corrige, no el alumnado).

:class:`ShortTracebacks` recorta los tracebacks en los comentarios (feedback): el
alumno ve el tipo de error y el mensaje con la pista, pero no las líneas de las
pruebas ocultas que IPython muestra como contexto.
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool


class ShortTracebacks(Preprocessor):
    """Deja cada error de una celda calificada en «Tipo: mensaje», sin código alrededor."""

    # En `nbconvert` estos pasos vienen desactivados, y nbgrader los registra sin activarlos.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
