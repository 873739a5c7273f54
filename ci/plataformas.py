"""Qué descargaría quien instala el curso, plataforma por plataforma: ``python3 ci/plataformas.py``.

No instala nada: pregunta a pip qué elegiría (``pip install --dry-run --report``) para otra
plataforma (``--platform``, ``--python-version``), con las dependencias de ``make lab`` (las de
``[project].dependencies`` y el extra ``lab`` de pyproject.toml, como requisitos sueltos: no
construye el proyecto), y suma lo que pesa cada archivo según PyPI. Necesita red.

    python3 ci/plataformas.py                 # la tabla de plataformas, en Markdown
    python3 ci/plataformas.py --python 3.13   # con otra versión de Python
    python3 ci/plataformas.py --colab         # ¿instalar el curso en Colab cambia algo de lo que trae?
    python3 ci/plataformas.py --json          # lo mismo, para otro programa

Plataformas: Linux x86_64 (etiquetas manylinux de una glibc dada), la opción ``CPU=1`` del
Makefile (torch desde el índice solo-CPU de PyTorch y el resto desde PyPI), macOS 14 y 13 en Apple
Silicon (arm64), macOS 13 en Intel (x86_64) y Windows x86_64. Las etiquetas de macOS son las que
acepta pip en esa versión del sistema (``packaging.tags.mac_platforms``).

``--colab`` resuelve solo las dependencias básicas (lo que instala la celda de configuración en
Colab) para Linux x86_64 y el Python de Colab, con las versiones de ``ci/colab.txt`` como
restricciones (``-c``): si resuelve, instalar el curso no cambia ninguno de esos paquetes, y se
lista lo que pip instalaría además.

pip se ejecuta aislado (``--isolated`` y sin variables ``PIP_*``): la configuración de pip de la
máquina (índices locales, restricciones) no cambia lo que resuelve. Y con los marcadores de entorno
de la plataforma de destino: pip los evalúa con el intérprete que lo ejecuta, no con ``--platform``
ni ``--python-version`` (pypa/pip#6117, #10050), así que desde Linux pediría para Windows las
bibliotecas de NVIDIA que torch pide solo en Linux (``platform_system == "Linux"``) y no pediría
``pywinpty``, que la terminal de JupyterLab pide solo en Windows. El script arranca pip con esos
valores cambiados.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

try:
    from packaging.requirements import Requirement
    from packaging.tags import mac_platforms
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ModuleNotFoundError:  # sin packaging instalado: la copia que lleva pip
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.tags import mac_platforms
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # course_lib.cli (argparse en español) solo usa la biblioteca estándar
from course_lib.cli import SpanishArgumentParser  # noqa: E402

PYPROJECT = ROOT / "pyproject.toml"
COLAB = ROOT / "ci" / "colab.txt"
PYPI = "https://pypi.org/simple"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # el INDICE_CPU del Makefile
NO_TORCH = "no hay rueda de torch ≥ 2.3 para esta plataforma"


def manylinux_tags(glibc: tuple[int, int], arch: str = "x86_64") -> list[str]:
    """Las etiquetas que pip acepta en un Linux con esa glibc, de la más nueva a la más vieja.

    pip no las deduce de una sola (``--platform manylinux_2_35_x86_64`` solo acepta esa): van todas,
    con los alias viejos (manylinux2014 = 2_17, manylinux2010 = 2_12, manylinux1 = 2_5)."""
    aliases = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    major, newest = glibc
    tags = []
    for minor in range(newest, 4, -1):
        tags.append(f"manylinux_{major}_{minor}_{arch}")
        if minor in aliases:
            tags.append(f"{aliases[minor]}_{arch}")
    return [*tags, f"linux_{arch}"]


def macos_tags(version: tuple[int, int], arch: str) -> list[str]:
    """Las etiquetas que pip acepta en esa versión de macOS (las mismas funciones que usa pip)."""
    return list(mac_platforms(version, arch))


# Los marcadores de entorno (PEP 508) de cada sistema, como los da packaging.markers.default_environment
# allí; platform_release es la versión del núcleo (Darwin 23 = macOS 14, Darwin 22 = macOS 13).
LINUX = {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"}
WINDOWS = {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"}


def macos(release: str, machine: str) -> dict[str, str]:
    return {
        "os_name": "posix",
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "platform_machine": machine,
        "platform_release": release,
    }


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    tags: tuple[str, ...]
    markers: dict[str, str]
    cpu_index: bool = False  # la opción CPU=1 del Makefile: torch desde el índice solo-CPU


def platforms(glibc: tuple[int, int]) -> list[Platform]:
    linux = tuple(manylinux_tags(glibc))
    glibc_text = f"glibc {glibc[0]}.{glibc[1]}"
    return [
        Platform("linux", f"Linux x86_64 ({glibc_text})", linux, LINUX),
        Platform("linux-cpu", f"Linux x86_64, `make lab CPU=1` ({glibc_text})", linux, LINUX, cpu_index=True),
        Platform("macos14-arm64", "macOS 14 arm64 (Apple Silicon)", tuple(macos_tags((14, 0), "arm64")),
                 macos("23.0.0", "arm64")),
        Platform("macos13-arm64", "macOS 13 arm64 (Apple Silicon)", tuple(macos_tags((13, 0), "arm64")),
                 macos("22.0.0", "arm64")),
        Platform("macos13-x86_64", "macOS 13 x86_64 (Intel)", tuple(macos_tags((13, 0), "x86_64")),
                 macos("22.0.0", "x86_64")),
        Platform("windows", "Windows x86_64", ("win_amd64",), WINDOWS),
    ]  # fmt: skip


def target_markers(system: dict[str, str], python: str) -> dict[str, str]:
    """Los marcadores de la plataforma de destino con su versión de Python (CPython)."""
    full = python if python.count(".") >= 2 else f"{python}.0"
    return {
        **system,
        "python_version": ".".join(full.split(".")[:2]),
        "python_full_version": full,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
    }


# Arranca pip con los marcadores de la plataforma de destino: Marker.evaluate busca
# default_environment en su módulo en cada llamada, así que basta con cambiar esa función.
PIP_WITH_MARKERS = """
import json, sys
from pip._vendor.packaging import markers
target = json.loads(sys.argv.pop(1))
native = markers.default_environment
markers.default_environment = lambda: {**native(), **target}
from pip._internal.cli.main import main
sys.exit(main())
"""


@dataclass
class File:
    name: str
    version: str
    filename: str
    url: str
    size: int | None = None  # bytes; None si no se pudo saber


@dataclass
class Result:
    platform: str
    works: bool | None  # None: no se pudo comprobar (sin red hasta el índice)
    torch: str | None = None
    files: list[File] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def size_mb(self) -> float | None:
        if not self.files or any(f.size is None for f in self.files):
            return None
        return sum(f.size for f in self.files) / 1e6

    @property
    def gpu_files(self) -> list[File]:
        return [f for f in self.files if re.match(r"(nvidia|cuda)[-_]|triton$", canonicalize_name(f.name))]


def course_requirements(extras: tuple[str, ...] = ("lab",)) -> tuple[str, list[str]]:
    """La versión del curso y sus requisitos: las dependencias básicas y las de los extras pedidos."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    unique = list(dict.fromkeys(requirements))  # lab repite lo que otros extras comparten
    return project["version"], unique


def clean_environment() -> dict[str, str]:
    """El entorno sin la configuración de pip de la máquina (índices, restricciones, certificados).

    ``--isolated`` no basta: salta la configuración del usuario y las variables PIP_*, pero sigue
    leyendo la global (/etc/pip.conf, /etc/xdg/pip/pip.conf). PIP_CONFIG_FILE=/dev/null la salta."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    return environment


def pip_dry_run(
    requirements: list[str],
    tags: tuple[str, ...],
    markers: dict[str, str],
    python: str,
    *,
    index_url: str = PYPI,
    constraints: Path | None = None,
    cert: str | None = None,
) -> tuple[dict | None, str]:
    """Lo que elegiría pip para esa plataforma: (el informe de ``--report`` o None, lo que escribió pip)."""
    with tempfile.TemporaryDirectory(prefix="plataformas-") as tmp:
        report = Path(tmp) / "informe.json"
        command = [
            sys.executable, "-c", PIP_WITH_MARKERS, json.dumps(target_markers(markers, python)),
            "--isolated", "install", "--dry-run", "--progress-bar", "off",
            "--report", str(report), "--ignore-installed", "--only-binary=:all:",
            "--python-version", python, "--implementation", "cp", "--target", str(Path(tmp) / "destino"),
            "--index-url", index_url, "--disable-pip-version-check", "--no-input", "--retries", "2", "--timeout", "30",
        ]  # fmt: skip
        for tag in tags:
            command += ["--platform", tag]
        if constraints is not None:
            command += ["-c", str(constraints)]
        if cert:
            command += ["--cert", cert]
        done = subprocess.run(  # pip explica los conflictos por la salida normal y el error por la de errores
            [*command, *requirements], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=clean_environment(), timeout=1800,
        )  # fmt: skip
        if done.returncode != 0 or not report.exists():
            return None, done.stdout
        return json.loads(report.read_text(encoding="utf-8")), done.stdout


def report_files(report: dict) -> list[File]:
    files = []
    for item in report["install"]:
        url = item["download_info"]["url"]
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        files.append(File(item["metadata"]["name"], item["metadata"]["version"], filename, url))
    return files


def last_error(stderr: str) -> str:
    """La última línea de error de pip (la que dice por qué no resolvió)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:") and "ResolutionImpossible" not in line]
    return (errors or lines or ["(pip no dijo nada)"])[-1]


def explain_failure(stderr: str) -> str:
    """Por qué no resolvió, en español, con la línea de pip; si falta torch, hasta qué versión hay."""
    line = last_error(stderr)
    # «Could not find a version that satisfies the requirement torch>=2.3 (from versions: 2.0.0, …)»:
    # la primera que falta es la causa; «from versions» son las que hay para esta plataforma.
    missing = re.search(r"satisfies the requirement ([A-Za-z0-9_.\-]+)[^(\n]*\(from versions: ([^)]*)\)", stderr)
    if missing and canonicalize_name(missing.group(1)) == "torch":
        versions = [v.strip() for v in missing.group(2).split(",") if v.strip() and v.strip() != "none"]
        newest = f"; la más nueva que hay es la {max(versions, key=Version)}" if versions else ""
        return f"{NO_TORCH}{newest} (pip: «{line}»)"
    if missing and "Cannot install" not in stderr:
        return f"no hay rueda de {missing.group(1)} para esta plataforma (pip: «{line}»)"
    # «The conflict is caused by:» y, sangradas, las dos exigencias que chocan.
    causes = re.search(r"The conflict is caused by:\n((?:[ \t]+\S.*\n?)+)", stderr)
    if causes:
        clash = " / ".join(c.strip() for c in causes.group(1).splitlines() if c.strip())
        return f"conflicto de versiones: {clash} (pip: «{line}»)"
    return f"pip no encontró una combinación que sirva (pip: «{line}»)"


def fetch_sizes(files: list[File], cert: str | None) -> None:
    """El tamaño de cada archivo: el Content-Length de una petición HEAD a su dirección o, si no lo
    da, el campo ``size`` de la API JSON de PyPI (https://pypi.org/pypi/<nombre>/json)."""
    import ssl

    context = ssl.create_default_context(cafile=cert) if cert else None

    def head(file: File) -> int | None:
        request = urllib.request.Request(file.url, method="HEAD")
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:
            length = answer.headers.get("Content-Length")
        return int(length) if length else None

    def pypi_json(file: File) -> int | None:
        url = f"https://pypi.org/pypi/{file.name}/json"
        with urllib.request.urlopen(url, timeout=60, context=context) as answer:
            release = json.load(answer)["releases"].get(file.version, [])
        return next((u["size"] for u in release if u["filename"] == file.filename), None)

    def size(file: File) -> None:
        for way in (head, pypi_json):
            try:
                file.size = way(file)
            except (OSError, KeyError, ValueError):
                file.size = None
            if file.size is not None:
                return

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(size, files))


def reachable(url: str, cert: str | None) -> str | None:
    """None si el índice responde; si no, por qué (para decirlo en vez de inventar cifras)."""
    import ssl

    context = ssl.create_default_context(cafile=cert) if cert else None
    try:
        with urllib.request.urlopen(f"{url}/torch/", timeout=15, context=context):
            return None
    except (OSError, urllib.error.URLError) as error:
        return str(getattr(error, "reason", error))


def torch_version(files: list[File]) -> str | None:
    return next((f.version for f in files if canonicalize_name(f.name) == "torch"), None)


def resolve(platform: Platform, requirements: list[str], python: str, cert: str | None) -> Result:
    if platform.cpu_index:
        return resolve_cpu(platform, requirements, python, cert)
    result = Result(platform.name, works=False)
    report, stderr = pip_dry_run(requirements, platform.tags, platform.markers, python, cert=cert)
    if report is None:
        result.error = explain_failure(stderr)
        return result
    result.works, result.files = True, report_files(report)
    result.torch = torch_version(result.files)
    fetch_sizes(result.files, cert)
    return result


def resolve_cpu(platform: Platform, requirements: list[str], python: str, cert: str | None) -> Result:
    """``make lab CPU=1``: primero torch desde el índice solo-CPU, después el resto desde PyPI.

    La segunda orden encuentra torch y sus dependencias ya instalados y los deja: aquí, fijados
    con restricciones a lo que eligió la primera, y sin contarlos dos veces."""
    result = Result(platform.name, works=None)
    problem = reachable(CPU_INDEX, cert)
    if problem is not None:
        result.error = (
            f"no se pudo comprobar: el índice solo-CPU de PyTorch ({CPU_INDEX}) no responde desde esta "
            f"máquina ({problem}); sin cifras para esta opción: ejecuta el script en una máquina con acceso"
        )
        return result
    torch_report, stderr = pip_dry_run(
        ["torch>=2.3"], platform.tags, platform.markers, python, index_url=CPU_INDEX, cert=cert
    )
    if torch_report is None:
        result.works, result.error = False, explain_failure(stderr)
        return result
    first = report_files(torch_report)
    rest = [r for r in requirements if canonicalize_name(Requirement(r).name) != "torch"]
    with tempfile.TemporaryDirectory(prefix="plataformas-") as tmp:
        pinned = Path(tmp) / "ya-instalado.txt"
        pinned.write_text("".join(f"{f.name}=={f.version}\n" for f in first), encoding="utf-8")
        report, stderr = pip_dry_run(rest, platform.tags, platform.markers, python, constraints=pinned, cert=cert)
    if report is None:
        result.works, result.error = False, f"torch sí, pero el resto no: {explain_failure(stderr)}"
        return result
    already = {canonicalize_name(f.name) for f in first}
    second = [f for f in report_files(report) if canonicalize_name(f.name) not in already]
    result.works, result.files = True, first + second
    result.torch = torch_version(first)
    fetch_sizes(result.files, cert)
    return result


def read_colab(path: Path | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Las versiones de ci/colab.txt (nombre normalizado → versión) y su cabecera (fuente, fecha, python…)."""
    pins, header = {}, {}
    for line in (path or COLAB).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"#\s*(fuente|commit|fecha|python|consultado):\s*(.+)", line):
            header[match.group(1)] = match.group(2).strip()
        elif line.strip() and not line.startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins, header


def resolve_colab(glibc: tuple[int, int], cert: str | None, colab_txt: Path = COLAB) -> Result:
    """La celda de configuración en Colab: las dependencias básicas, con lo que trae Colab fijado.

    Lo que Colab trae en una versión que no está en PyPI (con etiqueta local, p. ej.
    ``torch==2.11.0+cu128``) no puede ser una restricción para la resolución: si cumple el requisito
    del curso, pip lo encuentra instalado y no lo toca (ni mira sus dependencias), así que sale de la
    resolución; si no lo cumple, pip lo reemplazaría."""
    pins, header = read_colab(colab_txt)
    python = ".".join(header["python"].split(".")[:2])
    result = Result(f"Colab (Linux x86_64, Python {python})", works=False)
    _, requirements = course_requirements(extras=())
    local = {name: version for name, version in pins.items() if "+" in version}
    to_resolve = []
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in local:
            to_resolve.append(text)
        elif requirement.specifier.contains(Version(local[name]), prereleases=True):
            result.notes.append(f"{requirement.name} {local[name]} de Colab se conserva")
        else:
            result.error = f"pip reemplazaría {requirement.name} {local[name]} de Colab ({text})"
            return result
    with tempfile.TemporaryDirectory(prefix="plataformas-") as tmp:
        constraints = Path(tmp) / "colab.txt"
        constraints.write_text(
            "".join(f"{name}=={version}\n" for name, version in pins.items() if name not in local), encoding="utf-8"
        )
        report, stderr = pip_dry_run(
            to_resolve, tuple(manylinux_tags(glibc)), LINUX, python, constraints=constraints, cert=cert
        )
    if report is None:
        result.error = f"instalar el curso cambiaría paquetes de Colab: {explain_failure(stderr)}"
        return result
    files = report_files(report)
    kept = [f for f in files if canonicalize_name(f.name) in pins]
    result.works = True
    result.torch = next((f"{local[n]} (el de Colab)" for n in local if n == "torch"), torch_version(files))
    result.files = [f for f in files if canonicalize_name(f.name) not in pins]
    result.notes.append(f"no cambia ninguno de los {len(kept)} paquetes de Colab que usa")
    result.notes.append("además instala: " + (", ".join(f"{f.name} {f.version}" for f in result.files) or "nada"))
    result.notes.append(f"versiones de Colab: {header.get('fuente', '?')} ({header.get('fecha', '?')})")
    fetch_sizes(result.files, cert)
    return result


def spanish_number(value: float, decimals: int = 1) -> str:
    """1234.5 → «1 234,5», como en benchmarks/RESULTS.md."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")


def describe(result: Result) -> list[str]:
    notes = list(result.notes)
    if result.error:
        notes.append(result.error)
    if result.works:
        notes.insert(0, f"{len(result.files)} archivos")
        gpu = result.gpu_files
        if gpu and all(f.size is not None for f in gpu):
            mb = spanish_number(sum(f.size for f in gpu) / 1e6)
            notes.insert(1, f"con NVIDIA/CUDA (y triton): {len(gpu)} paquetes, {mb} MB")
        elif not gpu:
            notes.insert(1, "sin paquetes de NVIDIA/CUDA")
        if result.size_mb is None and result.files:
            notes.append("algún tamaño no se pudo saber: total incompleto")
    return notes


def markdown(results: list[Result], context: dict) -> str:
    works = {True: "sí", False: "**no**", None: "sin comprobar"}
    lines = [
        f"Fecha: {context['fecha']} · pip {context['pip']} (Python {context['python_local']}) · "
        f"Python de destino: {context['python']} · índice: {context['indice']}",
        "Requisitos: " + ", ".join(f"`{r}`" for r in context["requisitos"]),
        "",
        "| plataforma | ¿funciona? | torch | descarga (MB) | notas |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        size = spanish_number(r.size_mb, 2 if r.size_mb < 1 else 1) if r.size_mb is not None and r.files else "—"
        if r.works and not r.files:
            size = "0"
        notes = "; ".join(describe(r)).replace("|", "\\|")
        lines.append(f"| {r.platform} | {works[r.works]} | {r.torch or '—'} | {size} | {notes} |")
    for r in results:
        if not r.files:
            continue
        lines += ["", f"Los 5 archivos más grandes, {r.platform}:", "", "| archivo | MB |", "|---|---|"]
        largest = sorted(r.files, key=lambda f: f.size or 0, reverse=True)[:5]
        lines += [f"| {f.filename} | {spanish_number(f.size / 1e6, 2) if f.size else '?'} |" for f in largest]
    return "\n".join(lines)


def pip_version() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "--version"],
        capture_output=True,
        text=True,
        env=clean_environment(),
    )
    return done.stdout.split()[1] if done.returncode == 0 else "?"


def main(argv: list[str] | None = None) -> int:
    parser = SpanishArgumentParser(
        description="Qué descargaría la instalación del curso (make lab) en cada plataforma, según pip y PyPI.",
    )
    parser.add_argument("--python", default="3.12", help="versión de Python de destino (por defecto, 3.12)")
    parser.add_argument(
        "--glibc", default="2.35", help="glibc del Linux de destino (por defecto, 2.35: Ubuntu 22.04 y Colab)"
    )
    parser.add_argument(
        "--colab",
        action="store_true",
        help="en vez de las plataformas: ¿instalar el curso en Colab cambia alguno de sus paquetes (ci/colab.txt)?",
    )
    keys = [p.key for p in platforms((2, 35))]
    parser.add_argument("--solo", nargs="+", choices=keys, metavar="CLAVE", help=f"solo estas: {', '.join(keys)}")
    parser.add_argument(
        "--colab-txt", type=Path, default=COLAB, help="las versiones de Colab (por defecto, ci/colab.txt)"
    )
    parser.add_argument("--json", action="store_true", help="la salida en JSON, para otro programa")
    parser.add_argument("--cert", help="archivo de certificados de las autoridades (si pip o urllib no verifican)")
    args = parser.parse_args(argv)
    glibc = tuple(int(part) for part in args.glibc.split("."))

    version, requirements = course_requirements()
    if args.colab:
        _, header = read_colab(args.colab_txt)
        python = ".".join(header["python"].split(".")[:2])
        results = [resolve_colab(glibc, args.cert, args.colab_txt)]
        _, requirements = course_requirements(extras=())
        title = f"Instalar el curso {version} en Colab (celda de configuración: solo las dependencias básicas)"
    else:
        python = args.python
        chosen = [p for p in platforms(glibc) if not args.solo or p.key in args.solo]
        results = []
        for platform in chosen:
            print(f"Resolviendo {platform.name}…", file=sys.stderr, flush=True)
            results.append(resolve(platform, requirements, python, args.cert))
        title = f"Qué descarga la instalación del curso {version} (make lab), por plataforma"
    context = {
        "fecha": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "pip": pip_version(),
        "python_local": sys.version.split()[0],
        "python": python,
        "indice": PYPI,
        "requisitos": requirements,
    }
    if args.json:
        payload = {**context, "resultados": []}
        for r in results:
            payload["resultados"].append(
                {**asdict(r), "descarga_mb": r.size_mb, "nvidia": [f.name for f in r.gpu_files]}
            )
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(f"# {title}\n\n{markdown(results, context)}")
    # Que una plataforma no tenga torch es un resultado, no un fallo del script; en Colab, sí lo es.
    return 1 if args.colab and not results[0].works else 0


if __name__ == "__main__":
    sys.exit(main())
