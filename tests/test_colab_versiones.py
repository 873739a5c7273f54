"""El curso y las versiones que trae Google Colab (ci/colab.txt), sin red.

En Colab, la celda de configuración instala el curso con pip sobre lo que Colab ya trae. Tres cosas:

(a) Ningún suelo de ``[project].dependencies`` pasa de la versión que trae Colab: si pasara, pip
    reemplazaría el paquete de Colab (su torch con CUDA por otro de PyPI, su numpy por uno que
    quizá no casa con el resto de sus bibliotecas).
(b) ci/colab.txt dice de dónde salen sus versiones (repositorio, archivo, commit) y de qué fecha son.
(c) Las barras de progreso del curso (``tqdm.auto`` en el entrenamiento) salen como widget con el
    ipywidgets de Colab (7, mientras que el extra lab pide 8), en un núcleo de Jupyter de verdad.
    Las ruedas de esa versión vienen de ``<entorno>/ruedas-colab/`` (``make instalar`` las
    descarga); sin ellas, la prueba se salta y dice cómo conseguirlas.

``python3 ci/plataformas.py --colab`` hace la comprobación completa de (a) con la red: resuelve
con pip las dependencias con ci/colab.txt como restricciones y dice qué instalaría además.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.cuadernos import ROOT, tool_env

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

sys.path.insert(0, str(ROOT / "ci"))
try:
    import plataformas  # el mismo lector de ci/colab.txt que usa el script
finally:
    sys.path.pop(0)

COLAB_TXT = ROOT / "ci" / "colab.txt"
PINS, HEADER = plataformas.read_colab(COLAB_TXT)
BASE = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
COLAB_PYTHON = ".".join(HEADER.get("python", "0.0").split(".")[:2])

# El camino de los widgets: tqdm.auto → tqdm.notebook → ipywidgets (y lo que ipywidgets 7 importa).
WIDGET_PACKAGES = ("ipywidgets", "widgetsnbextension", "jupyterlab_widgets", "ipython-genutils", "tqdm")
# Las ruedas van junto al entorno (make instalar las pone en $(VENV)/ruedas-colab).
WHEELS = Path(sys.prefix) / "ruedas-colab"
DOWNLOAD = (
    f"{sys.executable} -m pip download --no-deps --only-binary=:all: -d {WHEELS} "
    f"-c ci/colab.txt {' '.join(WIDGET_PACKAGES)}"
)
# La versión del protocolo de los modelos de @jupyter-widgets/controls de cada ipywidgets: la que
# tiene que saber pintar la interfaz de Colab.
CONTROLS_PROTOCOL = {7: "1.5.0", 8: "2.0.0"}


def not_shipped(text: str) -> set[str]:
    """Los paquetes de la línea «# Colab no trae: a, b, c» de ci/colab.txt."""
    match = re.search(r"^# Colab no trae:(.*)$", text, re.MULTILINE)
    return {canonicalize_name(n.strip()) for n in match.group(1).split(",") if n.strip()} if match else set()


def raised_floors(requirements: list[str], pins: dict[str, str], python: str = COLAB_PYTHON) -> list[str]:
    """Un mensaje por requisito que la versión de Colab no cumple (pip reemplazaría ese paquete).

    Las etiquetas locales (``2.11.0+cu128``) cuentan como la versión pública: ``>=2.3`` las acepta."""
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if requirement.marker and not requirement.marker.evaluate({"python_version": python}):
            continue
        if name in pins and not requirement.specifier.contains(Version(pins[name]), prereleases=True):
            problems.append(
                f"{requirement.name}: pyproject.toml pide {requirement.specifier} y Colab trae {pins[name]}; "
                f"al instalar el curso en Colab, pip reemplazaría su {requirement.name}. Baja el suelo a "
                f"≤ {pins[name]} o, si de verdad hace falta, dilo en el README (Colab)."
            )
    return problems


# (a) Los suelos del curso y las versiones de Colab.


def test_colab_txt_lists_every_base_dependency() -> None:
    """Cada dependencia básica está fijada en ci/colab.txt o en su línea «# Colab no trae:»."""
    absent = not_shipped(COLAB_TXT.read_text(encoding="utf-8"))
    missing = [r for r in BASE if canonicalize_name(Requirement(r).name) not in {*PINS, *absent}]
    assert not missing, (
        f"ci/colab.txt no dice qué versión trae Colab de {missing}: busca el paquete en pip-freeze.gpu.txt de "
        "googlecolab/backend-info y añade nombre==versión, o añádelo a la línea «# Colab no trae:»"
    )
    both = {canonicalize_name(Requirement(r).name) for r in BASE} & absent & set(PINS)
    assert not both, f"ci/colab.txt fija {both} y a la vez dice que Colab no lo trae"


def test_base_floors_are_satisfied_by_colab() -> None:
    """Instalar el curso en Colab no reemplaza ninguno de sus paquetes: sus versiones cumplen los suelos."""
    problems = raised_floors(BASE, PINS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted({canonicalize_name(Requirement(r).name) for r in BASE} & set(PINS)))
def test_a_floor_above_colab_is_caught(name: str) -> None:
    """La comprobación de arriba sí falla si un suelo sube por encima de lo que trae Colab."""
    release = Version(PINS[name]).release
    floor = f"{name}>={release[0]}.{release[1] + 1}"  # la versión menor siguiente a la de Colab
    problems = raised_floors([floor], PINS)
    assert len(problems) == 1, f"{floor} frente a Colab {PINS[name]} debería ser un problema"
    assert name in problems[0] and f">={release[0]}.{release[1] + 1}" in problems[0] and PINS[name] in problems[0]


def test_local_labels_count_as_their_public_version() -> None:
    """``torch==2.11.0+cu128`` cumple ``torch>=2.3`` y ``torch==2.11.0``, y no ``torch>2.11.0``."""
    pins = {"torch": "2.11.0+cu128"}
    assert raised_floors(["torch>=2.3", "torch==2.11.0"], pins) == []
    assert len(raised_floors(["torch>2.11.0"], pins)) == 1


# (b) De dónde salen las versiones.


def test_colab_txt_names_its_source_and_date() -> None:
    """La cabecera da la fuente (backend-info, archivo, commit), la fecha del commit y el Python de Colab."""
    for key in ("fuente", "commit", "fecha", "python", "consultado"):
        assert key in HEADER, f"falta la línea «# {key}: …» en la cabecera de ci/colab.txt"
    commit = HEADER["commit"].split()[0]
    assert re.fullmatch(r"[0-9a-f]{40}", commit), f"«# commit:» debe empezar por el hash completo: {commit!r}"
    source = HEADER["fuente"]
    assert source.startswith("https://github.com/googlecolab/backend-info/"), source
    assert commit in source and re.search(r"/pip-freeze[\w.]*\.txt$", source), (
        f"la fuente debe ser el pip-freeze de ese commit: {source}"
    )
    for key in ("fecha", "consultado"):
        day = datetime.date.fromisoformat(HEADER[key].split()[0])  # AAAA-MM-DD
        assert day <= datetime.date.today(), f"«# {key}: {day}» está en el futuro"
    assert datetime.date.fromisoformat(HEADER["fecha"]) <= datetime.date.fromisoformat(HEADER["consultado"][:10])
    assert re.fullmatch(r"3\.\d+\.\d+", HEADER["python"]), f"«# python:» debe ser 3.X.Y: {HEADER['python']!r}"


# (c) Las barras de progreso con el ipywidgets de Colab.

TRAINING_CELL = """
for name in ("ipywidgets", "tqdm"):
    try:
        module = __import__(name)
        print(name, module.__version__)
    except ImportError:
        print(name, "ausente")
import torch
from course_lib import grammar, seq2seq_training
from course_lib.seq2seq import Seq2Seq
src_vocab, tgt_vocab = grammar.build_vocabs()
torch.manual_seed(0)
pairs = grammar.generate_pairs(8, seed=0, min_len=3, max_len=4)
model = Seq2Seq(len(src_vocab), len(tgt_vocab), d_emb=4, d_hidden=4)
history = seq2seq_training.train_seq2seq(model, pairs, src_vocab, tgt_vocab, epochs=2, batch_size=4)
print("épocas:", len(history))
"""


def install_offline(target: Path, packages: tuple[str, ...]) -> None:
    """Instala ``packages`` en las versiones de ci/colab.txt desde WHEELS, sin red, en ``target``."""
    pinned = [f"{name}=={PINS[canonicalize_name(name)]}" for name in packages]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "install", "--quiet", "--disable-pip-version-check",
         "--no-index", "--find-links", str(WHEELS), "--no-deps", "--target", str(target), *pinned],
        capture_output=True, text=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(
            f"{WHEELS} no tiene las ruedas de ci/colab.txt ({', '.join(pinned)}; pip: {last}). "
            f"Vuelve a llenarla (make instalar lo hace, o a mano: {DOWNLOAD})"
        )


def run_training_in_kernel(base: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    """Ejecuta TRAINING_CELL en un núcleo de Jupyter con ``target`` delante en el camino de import."""
    kernel_dir = base / "jupyter" / "kernels" / "colab_widgets"
    kernel_dir.mkdir(parents=True)
    path = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "ipywidgets de Colab",
        "language": "python",
        "env": {"PYTHONPATH": path, "CURSO_RAPIDO": "1", "MPLBACKEND": "Agg"},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    for key, value in tool_env(JUPYTER_PATH=str(base / "jupyter")).items():
        monkeypatch.setenv(key, value)  # jupyter_client busca el kernelspec con el JUPYTER_PATH del proceso
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TRAINING_CELL)])
    client = nbclient.NotebookClient(
        nb, kernel_name="colab_widgets", timeout=180, resources={"metadata": {"path": str(base)}}
    )
    client.execute()
    return nb


def widget_problems(nb: nbformat.NotebookNode, ipywidgets: str, tqdm: str) -> list[str]:
    """Lo que falla para que la barra de progreso sea un widget de ipywidgets ``ipywidgets`` (vacío: nada)."""
    outputs = nb.cells[0].outputs
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    problems = [f"la celda falló: {e}" for e in errors]
    if f"ipywidgets {ipywidgets}\ntqdm {tqdm}" not in printed:
        problems.append(f"el núcleo no usó ipywidgets {ipywidgets} y tqdm {tqdm}:\n{printed[:500]}")
    if "IProgress not found" in printed:
        problems.append("tqdm no encontró ipywidgets y escribió la barra en texto")
    if not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs):
        problems.append("el entrenamiento no mostró ningún widget (application/vnd.jupyter.widget-view+json)")
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    bars = [m for m in state.values() if m["model_name"] == "FloatProgressModel"]
    protocol = CONTROLS_PROTOCOL.get(Version(ipywidgets).major)
    if not bars:
        problems.append("el estado de los widgets no tiene la barra de progreso (FloatProgressModel)")
    elif {b["model_module_version"] for b in bars} != {protocol}:
        problems.append(f"con ipywidgets {ipywidgets} la barra debería usar @jupyter-widgets/controls {protocol}")
    return problems


@pytest.fixture
def wheels() -> Path:
    if not WHEELS.is_dir():
        pytest.skip(
            f"No está {WHEELS}, las ruedas de ipywidgets y tqdm en las versiones de Colab (ci/colab.txt). "
            f"make instalar la llena; a mano, con red: {DOWNLOAD}"
        )
    return WHEELS


@pytest.mark.cuadernos
def test_progress_bar_is_a_widget_with_colab_ipywidgets(
    wheels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Con el ipywidgets y el tqdm de Colab, el entrenamiento del curso muestra un widget de progreso."""
    target = tmp_path / "colab"
    install_offline(target, WIDGET_PACKAGES)
    nb = run_training_in_kernel(tmp_path, target, monkeypatch)
    problems = widget_problems(nb, PINS["ipywidgets"], PINS["tqdm"])
    assert not problems, "\n".join(problems)


@pytest.mark.cuadernos
def test_without_ipywidgets_the_widget_check_fails(
    wheels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sin ipywidgets, tqdm escribe la barra en texto: la comprobación de arriba lo nota."""
    target = tmp_path / "sin_ipywidgets"
    install_offline(target, ("tqdm",))
    # Un ipywidgets que no se deja importar tapa el del entorno (que trae el 8).
    (target / "ipywidgets").mkdir()
    (target / "ipywidgets" / "__init__.py").write_text("raise ImportError('ipywidgets ausente')\n", encoding="utf-8")
    nb = run_training_in_kernel(tmp_path, target, monkeypatch)
    problems = widget_problems(nb, PINS["ipywidgets"], PINS["tqdm"])
    assert any("en texto" in p for p in problems), problems
    assert any("ningún widget" in p for p in problems), problems
