"""Entregas descargadas de un LMS (Moodle, Canvas, Classroom…) → ``submitted/`` de nbgrader.

Solo lo usa quien corrige. Con ``LMS=moodle`` o ``LMS=canvas`` se leen los nombres tal como los
descargan esas plataformas (:mod:`course_grading.presets`) y el alumno se busca en la lista de
clase (:mod:`course_grading.roster`); sin ``LMS`` (``convencion``), el nombre del archivo sigue la
convención del curso::

    <id_alumno>__<cuaderno>.ipynb        p. ej. ana_garcia__02_autoatencion.ipynb

Los dos guiones bajos separan el alumno del cuaderno. Los identificadores de cuaderno
(``02_autoatencion``) nunca llevan dos guiones bajos seguidos, así que el separador es
el último ``__`` del nombre y el identificador del alumno puede llevar guiones bajos
(``ana_garcia``). Da igual en qué carpeta del zip esté cada archivo.

Antes de aplicar la convención se deshacen los cambios de nombre habituales:

- ``… (1).ipynb``, ``…(2).ipynb``: el navegador, al descargar dos veces el mismo archivo;
- ``Copia de …`` y ``Copy of …``: «Guardar una copia en Drive» de Colab (en español e inglés),
  al principio del nombre o justo después del ``__``;
- ``… - copia.ipynb`` y ``… - Copy.ipynb``: copiar y pegar en el explorador de archivos;
- la extensión en mayúsculas y los acentos descompuestos de los zips hechos en macOS.

Los nombres de dentro del zip se leen como los escribió el LMS, lleve o no el zip la marca de UTF-8
(:func:`zip_name`): sin ella, ``zipfile`` (y con él nbgrader) lee ``muñozgarcíajosé`` como
``mu├▒ozgarc├¡ajos├⌐``, y Canvas no marca sus zips a menos que se configure.

Las piezas:

- :class:`LMSExtractor`, el extractor de ``nbgrader zip_collect`` que usa :func:`zip_name` (lo activa
  :func:`collect_submissions`).
- :class:`LMSCollector`, el colector de ``nbgrader zip_collect`` (lo activa
  ``nbgrader_config.py``): normaliza los nombres, aplica la expresión regular configurada
  (``FileNameCollectorPlugin.named_regexp``, por defecto :data:`NAMED_REGEXP`) y avisa en
  español de cada archivo que no reconoce, en lugar de saltárselo con un simple aviso.
- :func:`collect_submissions` y ``python -m course_grading.lms`` (lo que ejecuta ``make recoger``):
  copia el zip o la carpeta a ``downloaded/<cuaderno>/archive/``, ejecuta ``zip_collect`` y
  resume qué se importó y qué no. Sale con estado 1 si algún archivo quedó sin reconocer.
- :data:`TEMPLATE_DIR`: la plantilla de los comentarios (feedback) en español.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import unzip
from traitlets import Bool, Unicode
from traitlets.config import Config

from course_lib.cli import SpanishArgumentParser

from . import presets
from .presets import CANVAS, CONVENTION, MOODLE, PRESETS, NotASubmission, Parsed
from .roster import Student, load_roster

SEPARATOR = "__"
CONVENTION_NAME = f"<id_alumno>{SEPARATOR}<cuaderno>.ipynb"
# nbgrader aplica la expresión a la ruta ABSOLUTA del archivo (de ahí el «.*/» inicial).
# El alumno es codicioso: el separador es el último «__».
NAMED_REGEXP = r".*/(?P<student_id>[^/]+)__(?P<file_id>[^/]+)\.ipynb$"
# Un identificador de alumno acaba siendo el nombre de una carpeta: letras (también con
# tilde), números y . _ - @ +, sin espacios ni punto inicial.
VALID_STUDENT_ID = re.compile(r"^\w[\w.@+-]*$")

# Plantilla de los comentarios en español: course_grading/plantillas/comentarios/.
TEMPLATE_DIR = Path(__file__).resolve().parent / "plantillas"
FEEDBACK_TEMPLATE = "comentarios"

IMPORTED = "importado"
UNRECOGNISED = "sin reconocer"
IGNORED = "ignorado"

_COPY_PREFIX = re.compile(r"^(?:(?:copia\s+de|copy\s+of)\s+)+", re.IGNORECASE)
_COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|\s+-\s+(?:copia|copy))+$", re.IGNORECASE)
# Lo que añaden los sistemas operativos a un zip y no es de nadie.
_SYSTEM_FOLDERS = {"__MACOSX", ".ipynb_checkpoints"}
_SYSTEM_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def normalise_name(name: str) -> str:
    """Deshace los cambios de nombre del navegador, de Colab y del explorador de archivos.

    ``Copia de ana__02_autoatencion (1).ipynb`` → ``ana__02_autoatencion.ipynb``. Un nombre
    que no tiene nada que deshacer se devuelve igual (salvo la forma de los acentos).
    """
    name = unicodedata.normalize("NFC", name)
    stem, ext = os.path.splitext(name)
    stem = _COPY_SUFFIX.sub("", stem.strip()).strip()
    stem = _COPY_PREFIX.sub("", stem)
    student, separator, notebook = stem.rpartition(SEPARATOR)
    if separator:
        stem = student + separator + _COPY_PREFIX.sub("", _COPY_SUFFIX.sub("", notebook).strip())
    return stem + ext.lower()


# Bit 11 de las cabeceras de un zip (``language encoding flag``, APPNOTE.TXT 4.4.4): nombre en UTF-8.
# Quién lo pone, leído en su código:
# - Canvas escribe con ``rubyzip``, que solo lo pone si se le pide (``rubyzip/rubyzip``, commit 4209b022,
#   igual de la 1.2.0 a la 3.4.1): en lib/zip/entry.rb ``if ::Zip.unicode_names`` → ``@gp_flags |= EFS``,
#   y en lib/zip.rb ``@unicode_names = false``. Sin esa opción, los bytes UTF-8 del nombre van sin marca.
#   Canvas la activa en config/initializers/rubyzip.rb (``Zip.unicode_names = true``, commit 26c99428),
#   pero no todas las versiones ni instalaciones lo cargan: hay que leer bien los dos casos.
# - Moodle (mod/assign/locallib.php, download_submissions, ``moodle/moodle`` commit 9ec2c12f) escribe con
#   ``\core_files\archive_writer::get_stream_writer($filename, …::ZIP_WRITER)``, que usa ``ZipStream``
#   (lib/zipstream/src/File.php, commit 6a82ef24): ``$this->bits |= self::BIT_EFS_UTF8;`` si el nombre
#   es UTF-8 y no ASCII. El empaquetador de antes (lib/filestorage/zip_archive.php, commit 009f190c)
#   también: ``fix_utf8_flags()``. Un zip de Moodle llega sin marca si alguien lo rehace (macOS, ``zip``).
UTF8_FLAG = 0x800


def zip_name(info: zipfile.ZipInfo) -> str:
    """El nombre de un archivo del zip tal como lo escribió el LMS, lleve o no la marca de UTF-8.

    Con la marca, ``zipfile`` ya lo lee en UTF-8. Sin ella lo lee en cp437, la norma del formato,
    pero Canvas (``rubyzip`` sin ``Zip.unicode_names``), el compresor de macOS y la orden ``zip``
    escriben los bytes UTF-8 sin marcarlos: ``muñoz`` llega como ``mu├▒oz``. Así que un nombre sin
    marca cuyos bytes son UTF-8 válido se lee en UTF-8; si no lo son, es un zip en cp437 (Windows
    antiguo) y se queda como lo lee ``zipfile``. Los acentos descompuestos de macOS se dejan como
    vienen: los compone (NFC) quien compara nombres.
    """
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        # cp437 asigna un carácter a cada byte: codificado otra vez, da los bytes del zip tal cual.
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def extract_zip(archive: Path, dest: Path) -> list[Path]:
    """Extrae ``archive`` en ``dest`` con los nombres de :func:`zip_name`; devuelve lo extraído.

    ``ZipFile.extract`` quita de cada ruta las partes peligrosas (``..``, la raíz). Los zips que
    haya dentro se extraen también, cada uno en una carpeta con su nombre, como hace nbgrader.
    """
    written = []
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            # ZipFile.open compara la cabecera local con ``orig_filename``, que no se toca.
            info.filename = zip_name(info)
            written.append(Path(z.extract(info, dest)))
    for path in list(written):
        if path.is_file() and path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
            written += extract_zip(path, path.parent / path.stem)
    return written


@dataclass(frozen=True)
class Entry:
    """Qué se hizo con un archivo de las entregas."""

    path: Path  # ruta absoluta, dentro de downloaded/<cuaderno>/extracted/
    shown: str  # cómo se le enseña al docente (ruta dentro del zip o de la carpeta)
    status: str  # ``IMPORTED``, ``UNRECOGNISED`` o ``IGNORED``
    student_id: str = ""
    notebook: str = ""  # nombre del cuaderno de la tarea, con .ipynb
    reason: str = ""  # por qué no se importó (en español)
    renamed: bool = False  # si hubo que normalizar el nombre
    lms: Parsed | None = None  # lo que dice el nombre del LMS (Moodle y Canvas)
    listed: bool | None = None  # si está en la lista de clase (None: no hay lista)
    uploaded_as: str = ""  # el nombre del archivo, si no es el del cuaderno


# Un registro por cuaderno de lo que dijo el LMS de cada alumno: con él se devuelven los comentarios.
RECORD_NAME = "entregas.json"


def identify(parsed: Parsed, roster: Sequence[Student]) -> tuple[str, bool | None]:
    """El id del alumno de ``parsed`` y si está en la lista de clase (``None`` si no hay lista).

    Convención: el id del nombre. Canvas: el alumno de la lista con ese ``id_lms`` (o, si no
    está, el id de usuario de Canvas). Moodle: el alumno de la lista con ese nombre completo
    (nombre y apellidos en cualquier orden, sin mirar tildes ni mayúsculas); si no está, el
    nombre hecho identificador (``Ana García`` → ``ana_garcia``).
    """
    fallback = presets.slug(parsed.key) if parsed.lms == MOODLE and not parsed.anonymous else parsed.key
    if not roster:
        return fallback, None
    for student in roster:
        if parsed.lms == CONVENTION and student.id == parsed.key:
            return student.id, True
        if parsed.lms == CANVAS and (student.lms_id == parsed.lms_id or student.id == parsed.key):
            return student.id, True
        if parsed.lms == MOODLE and not parsed.anonymous:
            names = {
                presets.plain(f"{student.first_name} {student.last_name}"),
                presets.plain(f"{student.last_name} {student.first_name}"),
                presets.plain(f"{student.last_name}, {student.first_name}"),
            }
            if presets.plain(parsed.name) in names:
                return student.id, True
    return fallback, False


def _parse(path: Path, parts: tuple[str, ...], notebooks: Sequence[str], named_regexp: str, lms: str, shown: str):
    """``(Parsed, cuaderno, renombrado)`` de un archivo, o la :class:`Entry` que explica por qué no se importa."""
    expected = ", ".join(f"<id_alumno>{SEPARATOR}{nb}" for nb in notebooks)
    original = unicodedata.normalize("NFC", path.name)
    if lms == CONVENTION:
        name = normalise_name(path.name)
        renamed = name != original
        if not name.endswith(".ipynb"):
            return Entry(path, shown, UNRECOGNISED, reason="no es un cuaderno .ipynb", renamed=renamed)
        match = re.match(named_regexp, (path.parent / name).as_posix())
        info = match.groupdict() if match else {}
        if not info.get("student_id") or not info.get("file_id"):
            reason = f"el nombre no sigue la convención {CONVENTION_NAME} (se esperaba {expected})"
            return Entry(path, shown, UNRECOGNISED, reason=reason, renamed=renamed)
        notebook = os.path.splitext(info["file_id"])[0] + ".ipynb"
        if notebook not in notebooks:
            reason = f"«{notebook}» no es un cuaderno de esta tarea (se esperaba {expected})"
            return Entry(path, shown, UNRECOGNISED, info["student_id"], notebook, reason, renamed)
        return Parsed(info["student_id"], notebook), notebook, renamed
    try:
        parsed = presets.parse(lms, tuple(unicodedata.normalize("NFC", p) for p in parts))
    except NotASubmission as error:
        return Entry(path, shown, IGNORED if error.ignored else UNRECOGNISED, reason=str(error))
    file = normalise_name(parsed.file)
    renamed = file != parsed.file
    if not file.endswith(".ipynb"):
        return Entry(path, shown, UNRECOGNISED, reason="no es un cuaderno .ipynb", renamed=renamed, lms=parsed)
    if file in notebooks:
        notebook = file
    elif len(notebooks) == 1:  # la tarea del LMS es un cuaderno: vale aunque lo haya renombrado
        notebook = notebooks[0]
    else:
        reason = f"«{file}» no es un cuaderno de esta tarea (se esperaba {', '.join(notebooks)})"
        return Entry(path, shown, UNRECOGNISED, reason=reason, renamed=renamed, lms=parsed)
    return parsed, notebook, renamed


def classify(
    paths: Iterable[Path],
    root: Path,
    notebooks: Sequence[str],
    named_regexp: str = NAMED_REGEXP,
    lms: str = CONVENTION,
    roster: Sequence[Student] = (),
) -> list[Entry]:
    """Decide, para cada archivo, de qué alumno es o por qué no se puede importar.

    ``notebooks`` son los cuadernos de la tarea (``["02_autoatencion.ipynb"]``); ``lms``, el
    formato de los nombres (:data:`course_grading.presets.PRESETS`); ``roster``, la lista de
    clase (con ella, cada entrega dice si su alumno está en la lista). Dos archivos del mismo
    alumno para el mismo cuaderno no se importan: no hay forma segura de saber cuál es el
    bueno, así que se avisa de los dos.
    """
    presets.check_preset(lms)
    entries: list[Entry] = []
    for path in sorted(Path(p) for p in paths):
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        parts = path.relative_to(root).parts if path.is_relative_to(root) else (path.name,)
        if any(part in _SYSTEM_FOLDERS for part in parts) or path.name.startswith("._") or path.name in _SYSTEM_FILES:
            entries.append(Entry(path, shown, IGNORED, reason="archivo del sistema, no es una entrega"))
            continue
        result = _parse(path, parts, notebooks, named_regexp, lms, shown)
        if isinstance(result, Entry):
            entries.append(result)
            continue
        parsed, notebook, renamed = result
        student, listed = identify(parsed, roster)
        uploaded = normalise_name(parsed.file)
        uploaded_as = uploaded if uploaded != notebook else ""
        entry = Entry(path, shown, IMPORTED, student, notebook, "", renamed, parsed if lms != CONVENTION else None,
                      listed, uploaded_as)  # fmt: skip
        entries.append(entry)

    # Moodle sin lista de clase: dos participantes con el mismo nombre no pueden ser el mismo alumno.
    by_student: dict[str, set[str]] = {}
    for e in entries:
        if e.status == IMPORTED and e.lms is not None and e.lms.lms == MOODLE and not e.listed:
            by_student.setdefault(e.student_id, set()).add(e.lms.lms_id)
    for i, e in enumerate(entries):
        if e.lms is not None and len(by_student.get(e.student_id, ())) > 1:
            entries[i] = replace(e, student_id=f"{e.student_id}_{e.lms.lms_id}")

    for i, e in enumerate(entries):
        if e.status == IMPORTED and not VALID_STUDENT_ID.match(e.student_id):
            reason = (
                f"el identificador de alumno «{e.student_id}» no vale como nombre de carpeta "
                "(solo letras, números y . _ - @ +, sin espacios)"
            )
            entries[i] = replace(e, status=UNRECOGNISED, reason=reason)

    owners: dict[tuple[str, str], list[int]] = {}
    for i, entry in enumerate(entries):
        if entry.status == IMPORTED:
            owners.setdefault((entry.student_id, entry.notebook), []).append(i)
    for (student, notebook), same in owners.items():
        if len(same) > 1:
            names = ", ".join(entries[i].shown for i in same)
            reason = f"hay {len(same)} archivos de {student} para {notebook} ({names}); deja solo uno"
            for i in same:
                entries[i] = replace(entries[i], status=UNRECOGNISED, reason=reason)
    return entries


def summary(entries: Sequence[Entry]) -> str:
    """La línea final: «N archivos importados, M sin reconocer: …»."""
    imported = [e for e in entries if e.status == IMPORTED]
    unrecognised = [e for e in entries if e.status == UNRECOGNISED]
    files = "archivo importado" if len(imported) == 1 else "archivos importados"
    line = f"{len(imported)} {files}, {len(unrecognised)} sin reconocer"
    if unrecognised:
        line += ": " + ", ".join(e.shown for e in unrecognised)
    unlisted = sorted({e.student_id for e in imported if e.listed is False})
    if unlisted:
        line += f"; {len(unlisted)} fuera de la lista de clase: {', '.join(unlisted)}"
    return line + "."


def report(entries: Sequence[Entry]) -> str:
    """El informe completo para el docente, archivo por archivo, en español."""
    lines = []
    groups = [
        (IMPORTED, "Importados"),
        (UNRECOGNISED, "SIN RECONOCER (no se han importado)"),
        (IGNORED, "Ignorados"),
    ]
    for status, title in groups:
        group = sorted((e for e in entries if e.status == status), key=lambda e: (e.student_id, e.shown))
        if not group:
            continue
        lines.append(f"{title} ({len(group)}):")
        for e in group:
            if status == IMPORTED:
                notes = [
                    "nombre normalizado" if e.renamed else "",
                    f"subido como {e.uploaded_as}" if e.uploaded_as else "",
                    "TARDE según el LMS" if e.lms is not None and e.lms.late else "",
                    "anónima" if e.lms is not None and e.lms.anonymous else "",
                    "NO ESTÁ EN LA LISTA DE CLASE" if e.listed is False else "",
                ]
                note = "".join(f" ({n})" for n in notes if n)
                lines.append(f"  {e.student_id:<20} ← {e.shown}{note}")
            else:
                lines.append(f"  {e.shown}: {e.reason}")
    lines.append(summary(entries))
    return "\n".join(lines)


class LMSCollector(FileNameCollectorPlugin):
    """Colector de ``nbgrader zip_collect`` con la convención del curso o los nombres de un LMS.

    Normaliza cada nombre antes de aplicar ``named_regexp`` (o el formato de ``lms``) y, en vez
    de saltarse en silencio lo que no reconoce, lo registra como error en español. Al terminar,
    :attr:`entries` dice qué pasó con cada archivo.
    """

    named_regexp = Unicode(
        NAMED_REGEXP,
        help="Expresión regular con los grupos student_id y file_id; se aplica a la ruta absoluta.",
    ).tag(config=True)
    lms = Unicode(CONVENTION, help=f"Formato de los nombres: {', '.join(PRESETS)}.").tag(config=True)
    log_summary = Bool(True, help="Escribir en el registro el resumen final.").tag(config=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: list[Entry] = []
        self._by_path: dict[Path, Entry] | None = None
        self._seen = 0

    def _notebooks(self) -> list[str]:
        from nbgrader.utils import find_all_notebooks

        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is None:
            return []
        released = coursedir.format_path(coursedir.release_directory, ".", coursedir.assignment_id)
        return find_all_notebooks(released) or [f"{coursedir.assignment_id}.ipynb"]

    def _classify_all(self, first: Path) -> dict[Path, Entry]:
        # Se clasifican todos los archivos a la vez para detectar entregas duplicadas.
        extracted = getattr(self.parent, "extracted_directory", None)
        root = first.parent
        if extracted is not None and hasattr(self.parent, "_format_collect_path"):
            root = Path(self.parent._format_collect_path(extracted)).resolve()
        files = [Path(r) / f for r, _, fs in os.walk(root) for f in fs] if first.is_relative_to(root) else [first]
        coursedir = getattr(self.parent, "coursedir", None)
        roster = load_roster(Path(coursedir.root)) if coursedir is not None else []
        self.entries = classify(files, root, self._notebooks(), self.named_regexp, self.lms, roster)
        return {e.path: e for e in self.entries}

    def collect(self, submitted_file: str) -> dict | None:
        path = Path(submitted_file).resolve()
        if self._by_path is None or path not in self._by_path:
            self._by_path = self._classify_all(path)
        entry = self._by_path[path]
        self._seen += 1
        if entry.status == UNRECOGNISED:
            self.log.error("Entrega sin reconocer, NO se importa: %s: %s", entry.shown, entry.reason)
        elif entry.status == IGNORED:
            self.log.info("Se ignora %s: %s", entry.shown, entry.reason)
        if self.log_summary and self._seen == len(self._by_path):
            self.log.warning(summary(self.entries))
        if entry.status != IMPORTED:
            return None
        return {"student_id": entry.student_id, "file_id": entry.notebook}


class CollectError(Exception):
    """Un problema que impide recoger las entregas (con su explicación en español)."""


class LMSExtractor(ExtractorPlugin):
    """Extractor de ``nbgrader zip_collect`` que lee los nombres como los escribió el LMS (:func:`zip_name`).

    El de nbgrader extrae con ``zipfile`` tal cual: en un zip sin la marca de UTF-8, los nombres
    con tilde o ñ llegan desfigurados y el de Canvas deja de reconocerse. Cada zip de
    ``archive/`` se extrae en ``extracted/<nombre del zip>/``; los ``.tar.gz``, con nbgrader; el
    resto se copia.
    """

    def extract(self, archive_path: str, extracted_path: str) -> None:
        archive, extracted = Path(archive_path), Path(extracted_path)
        if not any(archive.iterdir()):
            self.log.warning("No hay ningún archivo en %s", archive)
            return
        for root, _, files in os.walk(archive):
            extract_to = extracted / Path(root).relative_to(archive)
            extract_to.mkdir(parents=True, exist_ok=True)
            for name in files:
                source = Path(root) / name
                if source.suffix.lower() == ".zip":
                    if not zipfile.is_zipfile(source):
                        raise CollectError(f"{source.name} no es un zip válido (¿se descargó entero?).")
                    extract_zip(source, extract_to / source.stem)
                elif source.suffix in self.zip_ext:
                    unzip(str(source), str(extract_to), zip_ext=self.zip_ext, create_own_folder=True, tree=True)
                else:
                    shutil.copy(source, extract_to / name)


def _stage(source: Path, archive: Path) -> None:
    """Deja en ``archive`` (vacía) el zip o el contenido de la carpeta de entregas."""
    if archive.exists():
        shutil.rmtree(archive)
    archive.mkdir(parents=True)
    if source.is_dir():
        shutil.copytree(source, archive, dirs_exist_ok=True)
    else:
        shutil.copy2(source, archive / source.name)


def write_record(entries: Sequence[Entry], folder: Path, lms: str) -> Path:
    """Guarda en ``folder/entregas.json`` lo que dijo el LMS de cada alumno importado.

    Con él, :mod:`course_grading.handback` devuelve los comentarios con los nombres que el LMS
    reconoce. Una recogida posterior del mismo LMS añade o sustituye alumnos (p. ej. una
    entrega tardía); si cambia el LMS, empieza de nuevo.
    """
    path = folder / RECORD_NAME
    record = {"lms": lms, "alumnos": {}}
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old.get("lms") == lms:
            record["alumnos"] = old.get("alumnos", {})
    for e in entries:
        if e.status == IMPORTED:
            info = e.lms or Parsed(e.student_id, e.notebook)
            record["alumnos"][e.student_id] = {
                "archivo": e.shown,
                "id_lms": info.lms_id,
                "nombre": info.name,
                "prefijo": info.prefix,
                "tarde": info.late,
            }
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return path


def collect_submissions(
    source: Path, assignment: str, course: Path | None = None, lms: str = CONVENTION
) -> list[Entry]:
    """Importa a ``submitted/`` las entregas de ``assignment`` que hay en ``source`` (zip o carpeta).

    Usa ``nbgrader zip_collect --force`` con la configuración del curso (``nbgrader_config.py``):
    un alumno que ya tenía entrega de este cuaderno la ve sustituida; los demás alumnos y
    cuadernos no se tocan. ``lms`` es el formato de los nombres (:data:`presets.PRESETS`).
    Devuelve qué pasó con cada archivo y lo anota en ``downloaded/<cuaderno>/entregas.json``.
    """
    presets.check_preset(lms)
    from nbgrader.apps import ZipCollectApp

    course = (course or Path.cwd()).resolve()
    source = source.expanduser().resolve()
    if not source.exists():
        raise CollectError(f"No existe {source}: indica el zip o la carpeta que descargaste del LMS.")
    if source.is_file() and source.suffix.lower() not in (".zip", ".ipynb"):
        raise CollectError(f"{source.name} no es un zip, un cuaderno ni una carpeta.")
    if not (course / "notebooks" / assignment).is_dir():
        known = sorted(p.name for p in (course / "notebooks").glob("*/") if p.is_dir())
        raise CollectError(
            f"No conozco el cuaderno «{assignment}» (no existe notebooks/{assignment}/). "
            f"Cuadernos: {', '.join(known) or 'ninguno; ejecuta make release'}."
        )
    archive = course / "downloaded" / assignment / "archive"
    if source != archive and archive not in source.parents:  # si ya está ahí, no se copia (ni se borra)
        _stage(source, archive)

    app = ZipCollectApp()
    cwd = Path.cwd()
    os.chdir(course)
    try:
        # Solo los errores: los avisos de nbgrader (en inglés) repetirían el informe final.
        app.initialize([assignment, "--force", "--log-level=ERROR"])
        app.update_config(Config({"LMSCollector": {"log_summary": False, "lms": lms}}))
        if app.extractor_plugin is ExtractorPlugin:  # el de nbgrader lee mal los nombres sin marca de UTF-8
            app.extractor_plugin = LMSExtractor
        if not issubclass(app.collector_plugin, LMSCollector):
            raise CollectError(
                "nbgrader_config.py no configura ZipCollectApp.collector_plugin = course_grading.lms.LMSCollector "
                "(¿falló al cargarse? Mira el registro de arriba): no recojo nada."
            )
        app.start()
    except SystemExit as exit_:
        if exit_.code:
            raise CollectError("nbgrader zip_collect se detuvo con un error (mira el registro de arriba).") from None
    finally:
        os.chdir(cwd)
    entries = app.collector_plugin_inst.entries
    if source.suffix.lower() == ".zip":
        # En el informe, la ruta dentro del zip, sin la carpeta que nbgrader crea al extraerlo.
        prefix = f"{source.stem}/"
        entries = [replace(e, shown=e.shown.removeprefix(prefix)) for e in entries]
    write_record(entries, course / "downloaded" / assignment, lms)
    return entries


def parser() -> argparse.ArgumentParser:
    """La línea de órdenes, con la ayuda en español."""
    p = SpanishArgumentParser(
        prog="python -m course_grading.lms",
        description=(
            "Importa a submitted/ las entregas descargadas de un LMS (un zip o una carpeta) con "
            f"nbgrader zip_collect. Convención de nombres: {CONVENTION_NAME}, p. ej. "
            "ana_garcia__02_autoatencion.ipynb. Se aceptan los nombres que cambian el navegador "
            "(«… (1).ipynb») y Colab («Copia de …», también en inglés). Se ejecuta desde la raíz del curso."
        ),
        epilog=(
            "Sale con estado 1 si algún archivo no se reconoce (los reconocidos se importan igual). "
            "Lo habitual es usarlo con make recoger ENTREGAS=ruta/entregas.zip CUADERNO=<id>."
        ),
    )
    p.add_argument("entregas", type=Path, help="zip o carpeta con los cuadernos de la clase")
    p.add_argument("--cuaderno", required=True, metavar="ID", help="cuaderno que se recoge, p. ej. 02_autoatencion")
    p.add_argument(
        "--lms",
        choices=PRESETS,
        default=CONVENTION,
        help="cómo se llaman los archivos: la convención del curso (por defecto) o la descarga de Moodle o de Canvas",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_grading.lms ENTREGAS --cuaderno ID``: recoge e informa. Devuelve el estado de salida."""
    args = parser().parse_args(argv)
    print(f"Recogiendo las entregas de {args.cuaderno} desde {args.entregas}…", flush=True)
    try:
        entries = collect_submissions(args.entregas, args.cuaderno, lms=args.lms)
    except CollectError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    if not entries:
        print(f"Error: no hay ningún archivo en {args.entregas}.", file=sys.stderr)
        return 1
    print(report(entries), flush=True)
    imported = [e for e in entries if e.status == IMPORTED]
    unrecognised = [e for e in entries if e.status == UNRECOGNISED]
    if imported:
        print(
            f"Entregas en submitted/<alumno>/{args.cuaderno}/. "
            f"Siguiente paso: make autograde CUADERNO={args.cuaderno}.",
            flush=True,
        )
    unlisted = sorted({e.student_id for e in imported if e.listed is False})
    if unlisted:
        print(
            f"Aviso: {', '.join(unlisted)} no están en la lista de clase (se han importado igual). Si es otro "
            "nombre de alguien de la lista, corrígelo en la lista y vuelve a importarla (make alumnos LISTA=…); "
            "si es alguien nuevo, añádelo a la lista.",
            file=sys.stderr,
        )
    if unrecognised:
        naming = (
            f"con el nombre <id_alumno>{SEPARATOR}{args.cuaderno}.ipynb, "
            if args.lms == CONVENTION
            else f"con el nombre que da la descarga de {args.lms.capitalize()}, "
        )
        print(
            f"ATENCIÓN: {len(unrecognised)} sin reconocer. Arregla cada uno según su motivo ({naming}fuera de las "
            f"entregas o con una sola entrega por alumno) y vuelve a recoger; para corregir ya lo importado: "
            f"make autograde feedback export CUADERNO={args.cuaderno}",
            file=sys.stderr,
        )
    return 0 if imported and not unrecognised else 1


if __name__ == "__main__":
    # Con «python -m», este archivo es __main__ y nbgrader_config.py importa course_grading.lms
    # aparte: se usa el módulo importado para que ``LMSCollector`` sea la misma clase en los dos.
    from course_grading.lms import main as _main

    sys.exit(_main())
