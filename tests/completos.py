"""``make cuadernos-completos``: cada cuaderno de ``solutions/`` en modo normal, con sus afirmaciones comprobadas.

Ejecuta los cuadernos de principio a fin **sin** ``CURSO_RAPIDO`` (los entrenamientos completos:
minutos por cuaderno) y falla si una celda da error o si una afirmación del texto no se cumple
(:func:`course_lib.claims.claim` escribe :data:`course_lib.claims.FAILED`). Al final, una tabla
con el tiempo de cada cuaderno y sus afirmaciones, la que recoge el README. Uso::

    python -m tests.completos                  # todos
    python -m tests.completos 01 06            # los que empiezan así
    CURSO_GUARDAR=/tmp/salidas python -m tests.completos 08   # y guarda los cuadernos ejecutados
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

from course_lib.claims import FAILED, SKIPPED

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def offline_cache(folder: Path) -> Path | None:
    """Sin red (la máquina de desarrollo): una caché de datos con enlaces a la copia de ``../shared/data``.

    El cuaderno 07 busca los datos en la caché de ``CURSO_DATOS`` antes de descargarlos
    (:mod:`course_lib.data`, que comprueba sus huellas). Devuelve la carpeta, o ``None`` si no hay copia.
    """
    from course_lib.data import TATOEBA_TEST_NAMES

    zip_file, test_dir = SHARED_DATA / "spa-eng.zip", SHARED_DATA / "tatoeba-test"
    if not zip_file.exists() or not test_dir.is_dir():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    links = {"spa-eng.zip": zip_file}
    for lang in ("eng", "spa"):
        links[TATOEBA_TEST_NAMES[1].format(lang=lang)] = test_dir / TATOEBA_TEST_NAMES[0].format(lang=lang)
    for name, target in links.items():
        if not (folder / name).exists():
            (folder / name).symlink_to(target)
    return folder


def claim_lines(nb: nbformat.NotebookNode) -> tuple[list[str], list[str], list[str]]:
    """``(cumplidas, no cumplidas, sin comprobar)``: las líneas de afirmaciones de las salidas de ``nb``."""
    held, failed, skipped = [], [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            for line in text.splitlines():
                if line.startswith(FAILED):
                    failed.append(line)
                elif line.startswith(SKIPPED):
                    skipped.append(line)
                elif line.startswith("✓ "):
                    held.append(line)
    return held, failed, skipped


def run(path: Path, timeout: int = 3600, keep: Path | None = None) -> tuple[float, list[str], list[str]]:
    """Ejecuta ``path`` en modo normal: ``(segundos, afirmaciones cumplidas, problemas)``.

    Con ``keep``, guarda allí el cuaderno ejecutado, con sus salidas (para leerlas después).
    """
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    problems = []
    # Una carpeta de trabajo nueva: los puntos de control de una ejecución anterior no se reanudan.
    workdir = tempfile.mkdtemp(prefix=f"curso-{path.parent.name}-")
    try:
        nbclient.NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": workdir}}).execute()
    except nbclient.exceptions.CellExecutionError as error:
        problems.append(f"error al ejecutar: {str(error).strip().splitlines()[-1]}")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, keep / path.name)
    held, failed, skipped = claim_lines(nb)
    problems += failed + [f"sin comprobar en modo normal: {line}" for line in skipped]
    return time.perf_counter() - started, held, problems


def main(argv: list[str]) -> int:
    os.environ["CURSO_RAPIDO"] = "0"
    keep = Path(os.environ["CURSO_GUARDAR"]) if os.environ.get("CURSO_GUARDAR") else None
    os.environ.setdefault("MPLBACKEND", "Agg")
    if "CURSO_DATOS" not in os.environ:
        cache = offline_cache(Path(tempfile.mkdtemp(prefix="curso-datos-")))
        if cache is not None:
            os.environ["CURSO_DATOS"] = str(cache)
            print(f"Datos del cuaderno 07: la copia local de {SHARED_DATA} (sin descargar).", flush=True)
    paths = sorted(ROOT.glob("solutions/*/*.ipynb"))
    if argv:
        paths = [p for p in paths if any(p.parent.name.startswith(prefix) for prefix in argv)]
    if not paths:
        print(f"No hay cuadernos que empiecen por {', '.join(argv)} en solutions/.", file=sys.stderr)
        return 1
    print(f"Modo normal, {platform.machine()} con {os.cpu_count()} núcleos; {len(paths)} cuadernos.", flush=True)
    rows, failures = [], 0
    for path in paths:
        print(f"→ {path.parent.name}…", flush=True)
        seconds, held, problems = run(path, keep=keep)
        rows.append((path.parent.name, seconds, len(held), len(problems)))
        for line in held:
            print(f"   {line}")
        for line in problems:
            print(f"   {line}")
        failures += len(problems)
    print("\n| cuaderno | tiempo | afirmaciones cumplidas | problemas |\n|---|---|---|---|")
    for name, seconds, held, problems in rows:
        print(f"| {name} | {seconds / 60:.1f} min | {held} | {problems} |")
    print(f"\nTotal: {sum(r[1] for r in rows) / 60:.1f} min.")
    if failures:
        print(f"{failures} problemas: corrige el cuaderno o reescribe la afirmación con lo medido.", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
