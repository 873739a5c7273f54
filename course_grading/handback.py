"""Los comentarios que vuelven al LMS (``make devolver``); las notas, en :mod:`course_grading.export`.

:func:`pack_feedback` (``make devolver``): ``para_el_lms/comentarios_<cuaderno>_<lms>.zip`` con el HTML
de ``feedback/`` de cada alumno, con los nombres que el LMS reconoce al subirlo:

- ``moodle``: una carpeta por participante con el nombre de su carpeta de la descarga
  (``Nombre Apellidos_<n>_assignsubmission_file/<cuaderno>_comentarios.html``), lo que espera
  «Subir varios archivos de retroalimentación en un zip» (Moodle lee el participante de ahí);
- ``canvas``: ``<prefijo de la descarga>_<cuaderno>_comentarios.html`` en la raíz, lo que espera
  «Volver a subir entregas» (Canvas lee el id de usuario y el del archivo de los dos primeros
  números del nombre y lo adjunta como comentario de esa entrega). Canvas lo adjunta **con el nombre
  del archivo que entregó el alumno** (``:display_name => attachment.display_name`` en
  ``Assignment#infer_comment_context_from_filename``, ``app/models/assignment.rb``): el alumno recibe un
  HTML llamado ``<cuaderno>.ipynb``, que tiene que abrir con el navegador;
- ``convencion``: ``<alumno>/<cuaderno>.html``, una carpeta por alumno.

Los prefijos salen de ``downloaded/<cuaderno>/entregas.json``, que escribe ``make recoger``.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from course_lib.cli import SpanishArgumentParser

from .export import OUT_DIR
from .lms import RECORD_NAME
from .presets import CANVAS, CONVENTION, MOODLE, PRESETS, check_preset


class HandbackError(Exception):
    """Un problema que impide empaquetar los comentarios (con su explicación en español)."""


def pack_feedback(course: Path, assignment: str, lms: str | None = None) -> tuple[Path, list[str], list[str]]:
    """Empaqueta los comentarios de ``assignment`` para subirlos al LMS.

    Returns:
        ``(zip, alumnos empaquetados, avisos)``; los avisos dicen qué alumno con comentarios no
        se pudo empaquetar y por qué.
    """
    course = Path(course).resolve()
    record_path = course / "downloaded" / assignment / RECORD_NAME
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists() else {}
    lms = check_preset(lms or record.get("lms") or CONVENTION)
    if lms != CONVENTION and record.get("lms") != lms:
        raise HandbackError(
            f"No hay una recogida de {assignment} con LMS={lms} ({record_path.relative_to(course)}): los nombres que "
            f"{lms.capitalize()} reconoce salen de su descarga. Recoge antes con make recoger LMS={lms} …"
        )
    students = record.get("alumnos", {})
    files = sorted(course.glob(f"feedback/*/{assignment}/{assignment}.html"))
    if not files:
        raise HandbackError(f"No hay comentarios de {assignment} en feedback/: ejecuta antes make feedback.")
    out = course / OUT_DIR / f"comentarios_{assignment}_{lms}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    packed, warnings = [], []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for html in files:
            student = html.parent.parent.name
            info = students.get(student, {})
            if lms == CONVENTION:
                name = f"{student}/{assignment}.html"
            elif not info.get("prefijo"):
                warnings.append(f"{student}: no viene de la descarga de {lms.capitalize()}; súbelo a mano")
                continue
            elif lms == MOODLE:
                name = f"{info['prefijo']}/{assignment}_comentarios.html"
            elif info["prefijo"].removeprefix("LATE_").startswith("anon_"):
                warnings.append(f"{student}: entrega anónima; Canvas no la reconoce por el nombre, súbelo a mano")
                continue
            else:
                name = f"{info['prefijo']}_{assignment}_comentarios.html"
            z.write(html, name)
            packed.append(student)
    return out, packed, warnings


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_grading.handback --cuaderno ID [--lms …]``: el zip de comentarios para el LMS."""
    parser = SpanishArgumentParser(
        prog="python -m course_grading.handback",
        description="Empaqueta los comentarios de feedback/ de un cuaderno en un zip listo para subir al LMS.",
        epilog="Lo habitual es usarlo con make devolver CUADERNO=<id>, desde la raíz del curso.",
    )
    parser.add_argument("--cuaderno", required=True, metavar="ID", help="cuaderno, p. ej. 02_autoatencion")
    parser.add_argument("--lms", choices=PRESETS, default=None, help="formato (por defecto, el de la recogida)")
    args = parser.parse_args(argv)
    try:
        out, packed, warnings = pack_feedback(Path.cwd(), args.cuaderno, args.lms)
    except HandbackError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"Comentarios de {len(packed)} alumnos en {out.relative_to(Path.cwd())}.")
    if out.stem.endswith(f"_{CANVAS}"):
        print(
            "Nota: Canvas adjunta cada comentario con el nombre del archivo que entregó el alumno "
            f"({args.cuaderno}.ipynb, aunque sea HTML): avisa a la clase de que lo abra con el navegador."
        )
    for warning in warnings:
        print(f"Aviso: {warning}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
