"""Entregas que perdieron los metadatos de nbgrader: se corrigen como si los tuvieran.

Un cuaderno copiado celda a celda en otro nuevo, o rehecho en otro editor, llega sin
``metadata.nbgrader`` en todas sus celdas (o en algunas); otras veces el alumno borró una
celda de prueba. nbgrader, solo, no encuentra entonces las pruebas y pone un 0 sin avisar.
:class:`RestoreMetadata` se ejecuta al sanear la entrega, ANTES de ``OverwriteCells``, y
con las celdas fuente de la base de notas:

- una celda bloqueada (configuración, comprobación o prueba) cuyo código es el repartido
  recupera sus metadatos;
- una celda de respuesta se reconoce por lo que define (el mismo ``def``/``class`` que la
  fuente) o, si la fuente no define nada, por su posición entre celdas ya reconocidas;
- una prueba calificada que no aparece se añade tras la celda que define lo que prueba (o
  tras la celda reconocida anterior).

Después ``OverwriteCells`` reescribe, como siempre, el código de las celdas bloqueadas con
el de la base de notas: el alumno no puede falsear una prueba. Las celdas que no coinciden
con nada se quedan como celdas normales (se ejecutan, no puntúan). El registro del docente
recibe un aviso por entrega con lo restaurado.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)


@dataclass(frozen=True)
class SourceCell:
    """Una celda fuente de la base de notas, con lo que hace falta para reconocerla."""

    name: str
    cell_type: str
    source: str
    released: str  # el código que vio el alumno (sin las pruebas ocultas)
    checksum: str | None
    locked: bool
    grade: bool
    solution: bool
    points: float | None

    def metadata(self) -> dict[str, Any]:
        """Los metadatos de nbgrader que tenía la celda en la versión del alumnado."""
        meta: dict[str, Any] = {
            "cell_type": self.cell_type,
            "grade": self.grade,
            "grade_id": self.name,
            "locked": self.locked,
            "schema_version": 3,
            "solution": self.solution,
        }
        if self.checksum:
            meta["checksum"] = self.checksum
        if self.grade:
            meta["points"] = self.points
        return meta


@dataclass
class Restored:
    """Lo que se hizo con una entrega: para el aviso al docente."""

    matched: list[str]
    added: list[str]
    missing: list[str]

    def __bool__(self) -> bool:
        return bool(self.matched or self.added or self.missing)

    def message(self, submission: str) -> str:
        """El aviso en español (una línea) para el registro de la corrección."""
        parts = []
        if self.matched:
            parts.append(f"se restauraron los metadatos de {_count(self.matched, 'celda', 'celdas')}")
        if self.added:
            verb = "se añadió" if len(self.added) == 1 else "se añadieron"
            parts.append(f"{verb} {_count(self.added, 'prueba borrada', 'pruebas borradas')}")
        if self.missing:
            verb = "no se localizó" if len(self.missing) == 1 else "no se localizaron"
            parts.append(f"{verb} {_count(self.missing, 'celda de la fuente', 'celdas de la fuente')}")
        return f"Entrega de {submission}: {'; '.join(parts)}."


def _count(names: list[str], singular: str, plural: str) -> str:
    """``3 celdas (a, b, c)``: el número, el sustantivo y los nombres."""
    return f"{len(names)} {singular if len(names) == 1 else plural} ({', '.join(names)})"


def normalise(source: str) -> str:
    """El código sin diferencias de fin de línea ni espacios finales (lo que cambian los editores)."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def grade_id(cell: NotebookNode) -> str | None:
    """El ``grade_id`` de nbgrader de la celda, si lo conserva."""
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")


def defined_names(source: str) -> set[str]:
    """Nombres que el código define en su nivel superior: ``def``, ``class``, asignaciones e ``import``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(DEFINITION.findall(source))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def referenced_names(source: str) -> set[str]:
    """Nombres que usa el código, también los citados como texto (``checks.answer("softmax")``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"[A-Za-z_]\w*", source))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    texts = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return names | {t for t in texts if IDENTIFIER.match(t)}


def load_source_cells(db_url: str, notebook: str, assignment: str, hidden: ClearHiddenTests) -> list[SourceCell]:
    """Las celdas fuente del cuaderno, en su orden, leídas de la base de notas."""
    with Gradebook(db_url) as gradebook:
        source_nb = gradebook.find_notebook(notebook, assignment)
        points = {cell.name: float(cell.max_score) for cell in source_nb.grade_cells}
        solutions = {cell.name for cell in source_nb.solution_cells}
        return [
            SourceCell(
                name=cell.name,
                cell_type=cell.cell_type,
                source=cell.source,
                released=released_source(cell.source, cell.cell_type, hidden),
                checksum=cell.checksum,
                locked=bool(cell.locked),
                grade=cell.name in points,
                solution=cell.name in solutions,
                points=points.get(cell.name),
            )
            for cell in source_nb.source_cells
        ]


def released_source(source: str, cell_type: str, hidden: ClearHiddenTests) -> str:
    """El código de la celda tal como se repartió: sin la parte de pruebas ocultas."""
    cell = new_code_cell(source) if cell_type == "code" else new_markdown_cell(source)
    try:
        hidden._remove_hidden_test_region(cell)
    except RuntimeError:  # marcas de pruebas ocultas mal cerradas: se compara con el original
        return source
    return cell.source


class Matcher:
    """Empareja las celdas sin metadatos de una entrega con las celdas fuente que le faltan."""

    def __init__(self, nb: NotebookNode, sources: list[SourceCell]) -> None:
        self.nb = nb
        self.sources = sources
        self.answer_names = {s.name: defined_names(s.source) for s in sources if s.solution}
        known = {s.name for s in sources}
        # Las celdas con un grade_id de la fuente ya están identificadas; una con un grade_id
        # desconocido (p. ej. de otra versión del cuaderno) se trata como si no tuviera.
        self.position = {grade_id(cell): i for i, cell in enumerate(nb.cells) if grade_id(cell) in known}
        self.restored = Restored(matched=[], added=[], missing=[])

    def free(self, index: int, cell_type: str) -> bool:
        """¿La celda ``index`` es del tipo pedido y aún no está reconocida?"""
        cell = self.nb.cells[index]
        return cell.cell_type == cell_type and index not in self.position.values()

    def absent(self) -> list[SourceCell]:
        """Las celdas fuente que la entrega no tiene (todavía)."""
        return [s for s in self.sources if s.name not in self.position]

    def mark(self, index: int, source: SourceCell) -> None:
        """Devuelve a la celda ``index`` los metadatos de ``source``."""
        self.nb.cells[index].setdefault("metadata", NotebookNode())["nbgrader"] = NotebookNode(source.metadata())
        self.position[source.name] = index
        self.restored.matched.append(source.name)

    def match_locked(self) -> None:
        """Celdas bloqueadas: el mismo código que se repartió (o que la fuente)."""
        for source in [s for s in self.absent() if s.locked and not s.solution]:
            wanted = {normalise(source.released), normalise(source.source)} - {""}
            for index in range(len(self.nb.cells)):
                if self.free(index, source.cell_type) and normalise(self.nb.cells[index].source) in wanted:
                    self.mark(index, source)
                    break

    def window(self, source: SourceCell) -> tuple[int, int]:
        """Posiciones de la entrega entre las que debería estar ``source`` (sus vecinas reconocidas)."""
        order = [s.name for s in self.sources]
        at = order.index(source.name)
        before = [self.position[n] for n in order[:at] if n in self.position]
        after = [self.position[n] for n in order[at + 1 :] if n in self.position]
        return max(before, default=-1), min(after, default=len(self.nb.cells))

    def match_answers(self) -> None:
        """Celdas de respuesta: las que definen lo mismo que la fuente, o la única entre sus vecinas."""
        for source in [s for s in self.absent() if s.solution]:
            low, high = self.window(source)
            names = self.answer_names[source.name]
            free = [i for i in range(len(self.nb.cells)) if self.free(i, source.cell_type)]
            if names:
                defining = [i for i in free if names & defined_names(self.nb.cells[i].source)]
                inside = [i for i in defining if low < i < high]
                chosen = (inside or defining)[-1:]  # la última definición es la que queda en vigor
            else:
                inside = [i for i in free if low < i < high]
                chosen = inside if len(inside) == 1 else []
            if chosen:
                self.mark(chosen[0], source)

    def anchor(self, source: SourceCell) -> int:
        """Índice de la celda tras la que va la prueba ``source``.

        Tras las celdas fuente anteriores ya reconocidas; si la respuesta que prueba no se
        reconoció, además tras la última celda que define lo que prueba.
        """
        low, _ = self.window(source)
        tested = referenced_names(source.source)
        owners = [name for name, defined in self.answer_names.items() if tested & defined]
        if all(name in self.position for name in owners):
            return low if low >= 0 else len(self.nb.cells) - 1
        names = tested & set().union(*(self.answer_names[n] for n in owners))
        defining = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and names & defined_names(c.source)]
        best = max([low, *defining])
        return best if best >= 0 else len(self.nb.cells) - 1

    def add_missing_tests(self) -> None:
        """Pruebas calificadas borradas: vuelven, con el código de la base de notas."""
        for source in [s for s in self.absent() if s.grade and s.locked and not s.solution]:
            index = self.anchor(source) + 1
            cell = new_code_cell(source.source) if source.cell_type == "code" else new_markdown_cell(source.source)
            cell.metadata = NotebookNode(deletable=False, editable=False, nbgrader=NotebookNode(source.metadata()))
            if self.nb.get("nbformat_minor", 5) < 5:
                cell.pop("id", None)  # los cuadernos anteriores a ``nbformat`` 4.5 no llevan id de celda
            self.nb.cells.insert(index, cell)
            self.position = {n: (i + 1 if i >= index else i) for n, i in self.position.items()}
            self.position[source.name] = index
            self.restored.added.append(source.name)

    def run(self) -> Restored:
        """Empareja bloqueadas, respuestas y pruebas borradas, por este orden; devuelve lo hecho."""
        if not self.absent():
            return self.restored
        self.match_locked()
        self.match_answers()
        self.add_missing_tests()
        self.restored.missing = [s.name for s in self.absent()]
        order = [s.name for s in self.sources]
        self.restored.matched.sort(key=order.index)
        return self.restored


def restore(nb: NotebookNode, sources: list[SourceCell]) -> Restored:
    """Restaura en ``nb`` (en su sitio) los metadatos perdidos y las pruebas borradas."""
    return Matcher(nb, sources).run()


class RestoreMetadata(NbGraderPreprocessor):
    """Paso del saneado de ``nbgrader autograde`` (antes de ``OverwriteCells``): ver el módulo."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        hidden = ClearHiddenTests(parent=self)
        sources = load_source_cells(info["db_url"], info["notebook"], info["assignment"], hidden)
        done = restore(nb, sources)
        if done:
            self.log.warning(done.message(f"{info['student']}/{info['notebook']}"))
        return nb, resources
