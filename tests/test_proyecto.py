"""Coherencia de los archivos del proyecto: instalación, CI, repositorio y nbgrader."""

from __future__ import annotations

import re
import sys

import pytest
import yaml

from tests.cuadernos import ASSIGNMENTS, ROOT, nbgrader_meta, read, solution_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
RESERVED = [
    "00_preliminares",
    "01_seq2seq_atencion",
    "02_autoatencion",
    "03_multicabeza",
    "04_codificacion_posicional",
    "05_enmascaramiento",
    "06_transformer",
    "07_traductor",
    "08_gpt_y_bert",
]


def makefile_extras() -> set[str]:
    match = re.search(r"^EXTRAS_test := (.+)$", MAKEFILE, re.MULTILINE)
    assert match, "el Makefile debe definir EXTRAS_test := … (lo que instala make instalar)"
    return set(match.group(1).strip().split(","))


def test_environment_yml_installs_what_make_installs() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    python = next(d for d in conda if d.startswith("python"))
    assert python == f"python{PYPROJECT['project']['requires-python']}", (
        "environment.yml y pyproject.toml deben pedir la misma versión de Python"
    )
    assert sorted(conda) == ["pip", python], f"environment.yml no debe añadir paquetes de conda por su cuenta: {conda}"
    assert len(pip) == 1, f"environment.yml debe instalar solo el curso con pip: {pip}"
    match = re.fullmatch(r"-e \.\[(.+)\]", pip[0])
    assert match, f"la línea de pip debe ser `-e .[extras]`: {pip[0]!r}"
    extras = set(match.group(1).split(","))
    assert extras == makefile_extras(), "environment.yml y el Makefile deben instalar los mismos extras"
    assert extras <= set(PYPROJECT["project"]["optional-dependencies"]), "extras que pyproject.toml no define"


def test_torch_requirement_is_general_and_ci_pins_the_cpu_wheel() -> None:
    assert "torch>=2.3" in PYPROJECT["project"]["dependencies"]
    pins = (ROOT / "ci" / "restricciones-cpu.txt").read_text(encoding="utf-8")
    assert re.search(r"^torch==2\.13\.0$", pins, re.MULTILINE)
    assert "RESTRICCIONES ?= ci/restricciones-cpu.txt" in MAKEFILE


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and re.search(r"^\s*(time )?make test\s*$", ci, re.MULTILINE)


def test_assignment_ids_are_reserved_names() -> None:
    unknown = set(ASSIGNMENTS) - set(RESERVED)
    assert not unknown, f"identificadores de cuaderno no reservados: {unknown}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_skeleton_basics(assignment: str) -> None:
    nb = read(solution_path(assignment))
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "falta metadata.kernelspec python3"
    setups = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "configuracion"]
    assert len(setups) == 1 and nbgrader_meta(setups[0]).get("locked"), "una celda de configuración bloqueada"
    titles = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    for heading in ("## Objetivos", "## Resumen", "## Para saber más"):
        assert heading in titles, f"falta la sección {heading}"
    solutions = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")]
    for grade_id in solutions:
        assert re.fullmatch(r"[A-Za-z_]\w*", grade_id), f"grade_id {grade_id!r} debe ser el nombre del ejercicio"
        assert re.search(rf"^(def|class) {grade_id}\b", "\n".join(c.source for c in nb.cells), re.MULTILINE)
    points = sum(float(nbgrader_meta(c).get("points", 0)) for c in nb.cells if nbgrader_meta(c).get("grade"))
    intro = nb.cells[0].source
    assert re.search(rf"\*\*{points:g} puntos\*\*", intro), f"la introducción debe decir que vale {points:g} puntos"
    for cell in nb.cells:
        assert not cell.get("outputs") and not cell.get("execution_count"), "cuaderno fuente con salidas guardadas"


def test_nbgrader_config() -> None:
    text = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    assert 'source_directory = "solutions"' in text and 'release_directory = "notebooks"' in text
    assert "# TU CÓDIGO AQUÍ\\nraise NotImplementedError()" in text
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for entry in ("gradebook.db", "submitted/", "autograded/", "feedback/", ".venv/"):
        assert entry in ignored, f"{entry} debe estar en .gitignore"


def test_exact_pins_only_in_ci_or_when_asked(tmp_path) -> None:
    """Las versiones exactas de ci/restricciones-cpu.txt solo en CI (CI=true) o si se piden
    (RESTRICCIONES=…): quien instala en su máquina recibe lo que pip resuelva para su plataforma, y
    CPU=1 instala antes PyTorch solo-CPU desde el índice de PyTorch."""
    import os
    import subprocess

    bare = tmp_path / "sin_torch"
    (bare / "bin").mkdir(parents=True)
    (bare / "bin" / "python").symlink_to("/usr/bin/python3")  # un Python sin torch

    def dry_run(*extra: str, ci: str | None = None) -> list[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "RESTRICCIONES", "CPU")}
        if ci is not None:
            env["CI"] = ci
        command = ["make", "-n", "-W", "pyproject.toml", f"VENV={bare}", f"{bare}/.instalado-lab", *extra]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
        return [line for line in result.stdout.splitlines() if "pip install" in line]

    (plain,) = dry_run()
    assert "-c " not in plain and '-e ".[lab]"' in plain  # un portátil: lo que resuelva pip
    (ci,) = dry_run(ci="true")
    assert "-c ci/restricciones-cpu.txt" in ci
    (asked,) = dry_run("RESTRICCIONES=ci/restricciones-cpu.txt")
    assert "-c ci/restricciones-cpu.txt" in asked
    torch_cpu, course = dry_run("CPU=1")
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch_cpu and '"torch>=2.3"' in torch_cpu
    assert "-c " not in torch_cpu and "--index-url" not in course
    torch_cpu, _ = dry_run("CPU=1", ci="true")
    assert "-c ci/restricciones-cpu.txt" in torch_cpu  # en CI, la misma versión exacta desde el índice CPU


def test_pre_commit_uses_the_pinned_ruff_and_strips_notebook_outputs() -> None:
    """.pre-commit-config.yaml hace lo que las puertas de calidad: el mismo ruff y cuadernos sin salidas."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    repos = {repo["repo"].rsplit("/", 1)[-1]: repo for repo in config["repos"]}
    pinned = next(d for d in PYPROJECT["project"]["optional-dependencies"]["test"] if d.startswith("ruff"))
    assert pinned == f"ruff~={repos['ruff-pre-commit']['rev'].removeprefix('v')}", (pinned, repos["ruff-pre-commit"])
    assert {hook["id"] for hook in repos["ruff-pre-commit"]["hooks"]} == {"ruff", "ruff-format"}
    stripout = repos["nbstripout"]["hooks"][0]
    assert stripout["id"] == "nbstripout" and "solutions" in stripout["files"] and "notebooks" in stripout["files"]
