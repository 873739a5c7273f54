"""``import course_lib`` y ``from course_lib import checks`` cargan solo lo que usan (PEP 562).

Cada prueba de un cuaderno empieza con ``from course_lib import checks``: en el núcleo de
corrección, cargar ahí el bucle de entrenamiento, los tokenizadores o sacreBLEU es tiempo
perdido en cada entrega. Se mide en un proceso nuevo, para que lo importado por otras
pruebas no cuente.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import course_lib

# Lo que una prueba de cuaderno no necesita: el traductor de 07 y sus dependencias.
HEAVY_COURSE_MODULES = (
    "course_lib.train",
    "course_lib.data",
    "course_lib.tokenizer",
    "course_lib.batching",
    "course_lib.decode",
    "course_lib.evaluate",
    "course_lib.translate",
    "course_lib.seq2seq_training",
)
HEAVY_LIBRARIES = ("tokenizers", "sacrebleu", "tqdm", "matplotlib")  # los que torch no trae ya (tqdm sí)


def loaded_after(statement: str) -> dict[str, list[str]]:
    """Módulos en ``sys.modules`` tras ``statement`` en un intérprete nuevo, y los que ya trae ``import torch``."""
    code = (
        "import json, sys\n"
        "import torch\n"
        "with_torch = set(sys.modules)\n"
        f"{statement}\n"
        "print(json.dumps({'torch': sorted(with_torch), 'after': sorted(sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", ["import course_lib", "from course_lib import checks"])
def test_light_imports_load_nothing_heavy(statement: str) -> None:
    modules = loaded_after(statement)
    after, with_torch = set(modules["after"]), set(modules["torch"])
    assert not [m for m in HEAVY_COURSE_MODULES if m in after], f"{statement} carga {sorted(after)}"
    assert not [m for m in HEAVY_LIBRARIES if m in after - with_torch]
    # PyTorch 2.x ya importa parte de torch.distributed con «import torch»; course_lib no debe añadir más.
    extra_distributed = sorted(
        m for m in after - with_torch if m.startswith(("torch.distributed", "torch.nn.parallel"))
    )
    assert not extra_distributed, extra_distributed


def test_the_check_can_fail() -> None:
    """La prueba de arriba detecta una importación temprana: course_lib.translate sí carga sacreBLEU."""
    modules = loaded_after("from course_lib import checks\nimport course_lib.translate")
    assert "course_lib.train" in modules["after"]
    assert {"sacrebleu", "tokenizers"} <= set(modules["after"]) - set(modules["torch"])


def test_every_export_resolves_to_its_module() -> None:
    """Cada nombre de ``course_lib.__all__`` se carga del módulo que dice ``_EXPORTS``."""
    for name in course_lib.__all__:
        if name in ("REPO_URL", "REPO_BRANCH"):
            continue
        module = course_lib._EXPORTS[name]
        value = getattr(course_lib, name)
        assert value is getattr(sys.modules[f"course_lib.{module}"], name), name
    assert set(course_lib._EXPORTS) <= set(course_lib.__all__) | {"REPO_URL", "REPO_BRANCH"}


def test_submodules_and_unknown_names() -> None:
    assert course_lib.grammar.PAD_ID == 0  # un submódulo sin importarlo antes
    with pytest.raises(AttributeError, match="no_existe"):
        course_lib.no_existe  # noqa: B018
