"""Entregas hostiles y rotas para 00_preliminares, generadas a partir del cuaderno del alumnado.

Cada :class:`Hostile` describe una entrega (qué se hace al cuaderno) y la nota que debe
sacar cada celda calificada con la corrección del curso. Las trampas parten de respuestas
MAL hechas (:data:`WRONG`): si una trampa funcionara, la entrega sacaría puntos que no
merece. Las entregas rotas parten de respuestas correctas: deben conservar lo que no se
rompió. Con ``beats_naive=True``, la trampa saca puntos que no merece con nbgrader configurado
sin las defensas del curso (lo comprueba tests/test_hostiles.py: la trampa es real). Las demás
trampas ya fallan con nbgrader solo (p. ej. ``set_custom_exc``: nbgrader anota el error de la
respuesta del núcleo) o rompen su corrección; se quedan en el corpus para que sigan fallando.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import nbformat

from tests.cuadernos import answer_sources, filled_release, grade_cells, nbgrader_meta

ASSIGNMENT = "00_preliminares"
COSINE, SOFTMAX = "cosine_similarity", "softmax"
WRONG = {  # respuestas equivocadas que pasan la forma pero no los valores
    COSINE: "def cosine_similarity(a, b, dim=-1, eps=1e-8):\n    return (a * b).sum(dim)\n",
    SOFTMAX: "def softmax(x, dim=-1):\n    return x.exp()\n",
}

# --- Trampas: código en la respuesta que intenta aprobar sin acertar -------------------------
PATCH_ALLCLOSE = """
import torch
torch.allclose = lambda *args, **kwargs: True
torch.Tensor.allclose = lambda self, *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
"""
PATCH_CHECKS = """
from course_lib import checks
for _name in dir(checks):
    if _name.startswith("check_") or _name == "fail":
        setattr(checks, _name, lambda *args, **kwargs: None)
"""
CUSTOM_EXC = """
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
"""
INPUT_TRANSFORMER = """
def _vaciar(lines):
    return ["pass\\n"] if any("checks" in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(_vaciar)
"""
AST_TRANSFORMER = """
import ast
class _Vaciar(ast.NodeTransformer):
    def visit_Module(self, node):
        return ast.Module(body=[ast.Pass()], type_ignores=[]) if "checks" in ast.unparse(node) else node
get_ipython().ast_transformers.append(_Vaciar())
"""
EVENT_HOOK = """
def _parchear(*args):
    import course_lib.checks as c
    for name in dir(c):
        if name.startswith("check_") or name == "fail":
            setattr(c, name, lambda *a, **k: None)
get_ipython().events.register("pre_run_cell", _parchear)
"""
BUILTINS_IMPORT = """
import builtins, sys, types
import course_lib.checks
_real_import, _real_checks = builtins.__import__, sys.modules["course_lib.checks"]
class _Falso(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("check_") or name == "fail":
            return lambda *args, **kwargs: None
        return getattr(_real_checks, name)
def _importar(name, globals=None, locals=None, fromlist=(), level=0):
    module = _real_import(name, globals, locals, fromlist, level)
    if name == "course_lib" and fromlist and "checks" in fromlist:
        return types.SimpleNamespace(**{**vars(module), "checks": _Falso("course_lib.checks")})
    return module
builtins.__import__ = _importar
"""
KERNEL_MESSAGES = """
_kernel = get_ipython().kernel
_send = _kernel.session.send
def _todo_bien(stream, msg_or_type, content=None, *args, **kwargs):
    if msg_or_type == "error":
        return None
    if msg_or_type == "execute_reply" and isinstance(content, dict) and content.get("status") == "error":
        content = {"status": "ok", "execution_count": content.get("execution_count"), "user_expressions": {},
                   "payload": []}
    return _send(stream, msg_or_type, content, *args, **kwargs)
_kernel.session.send = _todo_bien
get_ipython().showtraceback = lambda *args, **kwargs: None
"""
READ_SOLUTIONS = """
import json, pathlib
for _folder in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]:
    for _path in [*_folder.glob("solutions/*/*.ipynb"), *_folder.glob("source/*/*.ipynb")]:
        for _cell in json.loads(_path.read_text(encoding="utf-8"))["cells"]:
            _code = "".join(_cell["source"])
            if _cell["cell_type"] == "code" and ("def softmax" in _code or "def cosine_similarity" in _code):
                exec(_code)
"""
# --- Entregas rotas: lo que rompen no debe arrastrar al resto ni parar la corrección ---------
INFINITE_LOOP = "while True:\n    pass\n"
STUBBORN_LOOP = (
    "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
)
KILL_KERNEL = "import os\nos._exit(0)\n"
TOO_MUCH_MEMORY = "import torch\n_bloques = [torch.ones(2**28) for _ in range(16)]  # 16 GB\n"
HUGE_OUTPUT = 'print("x" * 20_000_000)\n'
SYNTAX_ERROR = "def softmax(x, dim=-1):\n    return x.exp( / 2\n"


def _with_answers(answers: dict[str, str]) -> nbformat.NotebookNode:
    return filled_release(ASSIGNMENT, answers)


def cheat(code: str) -> Callable[[], nbformat.NotebookNode]:
    """Respuestas equivocadas con ``code`` detrás en cada una."""
    return lambda: _with_answers({gid: src + code for gid, src in WRONG.items()})


def broken_softmax(code: str, *, before: bool = True) -> Callable[[], nbformat.NotebookNode]:
    """Respuestas correctas, con ``code`` en la de softmax (antes o después de la definición)."""

    def build() -> nbformat.NotebookNode:
        answers = answer_sources(ASSIGNMENT)
        answers[SOFTMAX] = code + answers[SOFTMAX] if before else answers[SOFTMAX] + code
        return _with_answers(answers)

    return build


def references() -> nbformat.NotebookNode:
    return _with_answers(
        {
            COSINE: "from course_lib.basics import cosine_similarity\n",
            SOFTMAX: "from course_lib.basics import softmax\n",
        }
    )


def pytorch_builtins() -> nbformat.NotebookNode:
    return _with_answers(
        {
            COSINE: "import torch.nn.functional as F\ncosine_similarity = F.cosine_similarity\n",
            SOFTMAX: "import torch\ndef softmax(x, dim=-1):\n    return torch.softmax(x, dim=dim)\n",
        }
    )


def tests_edited() -> nbformat.NotebookNode:
    nb = _with_answers(WRONG)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade"):
            cell.source = "pass"
    return nb


def tests_deleted() -> nbformat.NotebookNode:
    nb = _with_answers(WRONG)
    nb.cells = [cell for cell in nb.cells if not nbgrader_meta(cell).get("grade")]
    return nb


def colab() -> nbformat.NotebookNode:
    """Como la guarda Colab: su kernelspec, metadatos «colab» y un id en cada celda."""
    nb = _with_answers(answer_sources(ASSIGNMENT))
    nb.metadata = {
        "colab": {"provenance": [], "gpuType": "T4"},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
    }
    for i, cell in enumerate(nb.cells):
        cell.metadata["id"] = f"celda{i:03d}"
        if cell.cell_type == "code":
            cell.metadata["colab"] = {"base_uri": "https://localhost:8080/"}
    return nb


def old_jupyter() -> bytes:
    """Como la guardaría un Jupyter de hace años: nbformat 4.2, sin ids y otro núcleo."""
    nb = _with_answers(answer_sources(ASSIGNMENT))
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 2
    data["metadata"]["kernelspec"] = {"name": "conda-env-curso-py", "display_name": "Python [conda env:curso]"}
    data["metadata"]["language_info"] = {"name": "python", "version": "3.6.9"}
    for cell in data["cells"]:
        cell.pop("id", None)
    return json.dumps(data, indent=1).encode()


def invalid_json() -> bytes:
    return nbformat.writes(_with_answers(answer_sources(ASSIGNMENT))).encode()[:5000]


@dataclass(frozen=True)
class Hostile:
    """Una entrega hostil o rota y la nota que debe sacar."""

    student: str
    kind: str  # «trampa» o «rota»
    build: Callable[[], nbformat.NotebookNode | bytes | None]  # None: no entrega cuaderno
    expected: dict[str, float]  # nota esperada por celda calificada
    beats_naive: bool = False  # con nbgrader sin defensas, saca puntos que no merece
    filename: str = f"{ASSIGNMENT}.ipynb"


def scores(cosine: bool, softmax: bool) -> dict[str, float]:
    """Nota máxima en las celdas de los ejercicios indicados, 0 en las demás."""
    full = grade_cells(ASSIGNMENT)
    keep = {COSINE: cosine, SOFTMAX: softmax}
    return {cell: points if keep[SOFTMAX if SOFTMAX in cell else COSINE] else 0.0 for cell, points in full.items()}


NONE, ALL, ONLY_COSINE = scores(False, False), scores(True, True), scores(True, False)

CORPUS = [
    Hostile("parche_allclose", "trampa", cheat(PATCH_ALLCLOSE), NONE, beats_naive=True),
    Hostile("parche_checks", "trampa", cheat(PATCH_CHECKS), NONE, beats_naive=True),
    Hostile("excepciones_tragadas", "trampa", cheat(CUSTOM_EXC), NONE),
    Hostile("transformador_entrada", "trampa", cheat(INPUT_TRANSFORMER), NONE, beats_naive=True),
    Hostile("transformador_ast", "trampa", cheat(AST_TRANSFORMER), NONE, beats_naive=True),
    Hostile("gancho_eventos", "trampa", cheat(EVENT_HOOK), NONE, beats_naive=True),
    Hostile("import_falso", "trampa", cheat(BUILTINS_IMPORT), NONE),
    Hostile("mensajes_del_nucleo", "trampa", cheat(KERNEL_MESSAGES), NONE),
    Hostile("lee_soluciones", "trampa", cheat(READ_SOLUTIONS), NONE, beats_naive=True),
    Hostile("referencia_course_lib", "trampa", references, NONE),
    Hostile("referencia_pytorch", "trampa", pytorch_builtins, NONE),
    Hostile("pruebas_editadas", "trampa", tests_edited, NONE),
    Hostile("pruebas_borradas", "trampa", tests_deleted, NONE),
    Hostile("bucle_infinito", "rota", broken_softmax(INFINITE_LOOP), ONLY_COSINE),
    Hostile("bucle_terco", "rota", broken_softmax(STUBBORN_LOOP), ONLY_COSINE),
    Hostile("mata_el_nucleo", "rota", broken_softmax(KILL_KERNEL), ONLY_COSINE),
    Hostile("demasiada_memoria", "rota", broken_softmax(TOO_MUCH_MEMORY), ONLY_COSINE),
    Hostile("salida_enorme", "rota", broken_softmax(HUGE_OUTPUT, before=False), ALL),
    Hostile(
        "error_de_sintaxis",
        "rota",
        lambda: _with_answers({**answer_sources(ASSIGNMENT), SOFTMAX: SYNTAX_ERROR}),
        ONLY_COSINE,
    ),
    Hostile("json_invalido", "rota", invalid_json, NONE),
    Hostile("sin_cuaderno", "rota", lambda: None, NONE),
    Hostile("guardado_en_colab", "rota", colab, ALL),
    Hostile("jupyter_antiguo", "rota", old_jupyter, ALL),
]
