"""Cómo nombra cada LMS las entregas que descarga: de la ruta de un archivo, quién lo entregó.

Tres formatos (``make recoger LMS=…``):

``convencion`` (por defecto)
    ``<id_alumno>__<cuaderno>.ipynb``, en cualquier carpeta: el alumno renombra su archivo.

``moodle``
    «Descargar todas las entregas» de una tarea de Moodle. Por defecto, una carpeta por
    participante, ``Nombre Apellidos_<n>_assignsubmission_file/<archivo>`` (hasta Moodle 4.0 la
    carpeta acaba en ``_``: ``…_assignsubmission_file_/``); sin «Descargar entregas en carpetas», un
    prefijo en el archivo: ``Nombre Apellidos_<n>_assignsubmission_file_<archivo>``. ``<n>`` es el
    **identificador de participante** de esa tarea (no el del usuario: cambia de una tarea a otra);
    Moodle cambia los ``_`` del nombre por espacios y, con la calificación anónima, el nombre es
    «Participante». El nombre del archivo no dice si la entrega fue tardía.

``canvas``
    «Descargar entregas» de una tarea de Canvas: un archivo por entrega,
    ``<apellidosnombre>[_LATE]_<id_usuario>_<id_archivo>_<archivo>``: el nombre en minúsculas sin
    espacios ni signos pero con sus tildes y su ñ («Muñoz García, José» → ``muñozgarcíajosé``),
    ``LATE`` si llegó tarde, el identificador de usuario de Canvas (el mismo en
    todas las tareas) y el del archivo; con la calificación anónima, ``anon_<código>`` en lugar del
    nombre y del usuario. Canvas solo incluye el último intento; si el alumno subió otra vez un
    archivo con el mismo nombre, Canvas lo llama ``<archivo>-1.ipynb``, ``-2``…

Fuentes: el código que genera esas descargas (Moodle ``mod/assign``, ``downloader.php`` y el
importador de comentarios de ``assignfeedback_file``; Canvas ``lib/content_zipper.rb``). Los nombres
llegan aquí ya leídos del zip como los escribió el LMS (:func:`course_grading.lms.zip_name`) y con
los acentos compuestos (NFC).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CONVENTION = "convencion"
MOODLE = "moodle"
CANVAS = "canvas"
PRESETS = (CONVENTION, MOODLE, CANVAS)

# Una parte de la ruta de una descarga de Moodle: carpeta (``rest`` vacío) o archivo con prefijo.
_MOODLE = re.compile(r"^(?P<name>[^_/]*)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<rest>.*))?$")
# Lo que Moodle pone en lugar del nombre con la calificación anónima (en inglés y en español).
_MOODLE_ANONYMOUS = {"participant", "participante"}
# Canvas: ``[LATE_]anon_<código>_<archivo id>_<archivo>`` o ``<nombre>_[LATE_]<usuario>_<archivo id>_<archivo>``.
_CANVAS_ANONYMOUS = re.compile(r"^(?P<late>LATE_)?anon_(?P<anon>[A-Za-z0-9]+)_(?P<aid>\d+)_(?P<file>.+)$")
# Canvas (lib/content_zipper.rb, ``instructure/canvas-lms`` commit 05e9653c): «Apellidos, Nombre»
# (``students[submission.user_id].sortable_name``) en minúsculas (``user_name.downcase``), unido con
# ``[users_name, submission.late? ? "LATE" : nil, id].compact.join("_")``, sin lo que no es letra ni
# número (``filename.gsub(/[^[[:word:]]]/, "")``) y seguido de ``"#{filename}_#{file.id}_…"``.
# ``[[:word:]]`` de Ruby, como ``\w`` de Python, incluye las letras con tilde y la ñ: se quedan.
_CANVAS = re.compile(r"^(?P<name>\w*?)_(?P<late>LATE_)?(?P<uid>\d+)_(?P<aid>\d+)_(?P<file>.+)$")
# El sufijo que pone Canvas a un archivo que se vuelve a subir con el mismo nombre.
_CANVAS_RESUBMISSION = re.compile(r"-\d+(?=\.ipynb$)", re.IGNORECASE)


@dataclass(frozen=True)
class Parsed:
    """Lo que dice el nombre de un archivo de entrega.

    Attributes:
        key: cómo identifica el LMS al alumno: el id de la convención, el id de usuario de Canvas
            (``anon_<código>`` si es anónima) o el nombre completo en Moodle.
        file: el nombre con que el alumno subió el archivo (sin el prefijo del LMS).
        lms: el formato (:data:`PRESETS`).
        lms_id: el identificador del LMS (usuario de Canvas, participante de Moodle) o ``""``.
        name: el nombre que escribe el LMS (Moodle: «Ana García»; Canvas: «garciaana»).
        prefix: el prefijo que hay que repetir para devolverle un archivo por el LMS.
        late: si el LMS la marca como tardía (solo Canvas lo escribe en el nombre).
        anonymous: calificación anónima (el LMS no dice quién es).
    """

    key: str
    file: str
    lms: str = CONVENTION
    lms_id: str = ""
    name: str = ""
    prefix: str = ""
    late: bool = False
    anonymous: bool = False


class NotASubmission(ValueError):
    """El archivo no es la entrega de un cuaderno; ``ignored`` si tampoco hay que avisar de él."""

    def __init__(self, reason: str, ignored: bool = False) -> None:
        super().__init__(reason)
        self.ignored = ignored


def check_preset(lms: str) -> str:
    """``lms`` si es un formato conocido; si no, un ``ValueError`` en español con los que hay."""
    if lms not in PRESETS:
        raise ValueError(f"LMS={lms!r} no es un formato conocido: usa {', '.join(PRESETS)}.")
    return lms


def parse_moodle(parts: tuple[str, ...]) -> Parsed:
    """Una descarga de Moodle: ``parts`` es la ruta del archivo dentro de la descarga, por partes."""
    for i, part in enumerate(parts):
        match = _MOODLE.match(part)
        if not match:
            continue
        name, pid, plugin, rest = match["name"].strip(), match["pid"], match["plugin"], match["rest"] or ""
        inner = [rest] if rest else []
        inner += parts[i + 1 :]
        if not inner:  # una carpeta vacía: no hay archivo
            break
        if plugin != "file":
            raise NotASubmission(f"es el texto en línea de Moodle ({plugin}), no un cuaderno", ignored=True)
        folder = "_".join(part.split("_")[:4]) if rest else part.rstrip("_")
        anonymous = name.casefold() in _MOODLE_ANONYMOUS
        return Parsed(
            key=f"participante_{pid}" if anonymous else name,
            file=inner[-1],
            lms=MOODLE,
            lms_id=pid,
            name=name,
            prefix=folder,
            anonymous=anonymous,
        )
    raise NotASubmission(
        "no está en la carpeta de un participante de Moodle («Nombre Apellidos_<n>_assignsubmission_file»): "
        "¿es una descarga de «Descargar todas las entregas»?"
    )


def parse_canvas(parts: tuple[str, ...]) -> Parsed:
    """Una descarga de Canvas: solo cuenta el nombre del archivo (``parts[-1]``)."""
    name = parts[-1]
    match = _CANVAS_ANONYMOUS.match(name)
    if match:
        anon = f"anon_{match['anon']}"
        prefix = f"{match['late'] or ''}{anon}_{match['aid']}"
        return Parsed(anon, match["file"], CANVAS, anon, "", prefix, bool(match["late"]), anonymous=True)
    match = _CANVAS.match(name)
    if not match:
        raise NotASubmission(
            "no tiene la forma de una descarga de Canvas (<apellidosnombre>_<id_usuario>_<id_archivo>_<archivo>)"
        )
    prefix = name[: match.start("file") - 1]
    return Parsed(
        key=match["uid"],
        file=_CANVAS_RESUBMISSION.sub("", match["file"]),
        lms=CANVAS,
        lms_id=match["uid"],
        name=match["name"],
        prefix=prefix,
        late=bool(match["late"]),
    )


def parse(lms: str, parts: tuple[str, ...]) -> Parsed:
    """Quién entregó el archivo de ruta ``parts`` en una descarga de ``lms`` (``moodle`` o ``canvas``).

    La convención del curso la aplica :func:`course_grading.lms.classify` con su expresión regular.
    """
    if check_preset(lms) == MOODLE:
        return parse_moodle(parts)
    if lms == CANVAS:
        return parse_canvas(parts)
    raise ValueError("La convención se lee con la expresión regular de course_grading.lms, no aquí.")


def plain(text: str) -> str:
    """``text`` sin tildes, en minúsculas y con un solo espacio entre palabras (para comparar nombres)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def slug(text: str) -> str:
    """Un identificador de alumno a partir de un nombre: ``"Ana García López"`` → ``"ana_garcia_lopez"``."""
    return re.sub(r"[^a-z0-9]+", "_", plain(text)).strip("_")
