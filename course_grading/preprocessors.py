"""Piezas de nbgrader propias del curso (solo las usa quien corrige, no el alumnado).

- :class:`ShortTracebacks` recorta los tracebacks en los comentarios (feedback): el
  alumno ve el tipo de error y el mensaje con la pista, pero no las líneas de las
  pruebas ocultas que IPython muestra como contexto.
- :func:`harden` configura la corrección endurecida: :class:`GuardedExecute` (núcleo
  aislado y con límites, estado limpio antes de cada prueba, núcleos muertos o colgados
  que no paran la corrección, salida limitada), :func:`suspicious_answers` (celdas
  que el docente debería leer) y :class:`course_grading.restore.RestoreMetadata` (entregas
  que perdieron los metadatos de nbgrader o borraron pruebas). Lo prueban
  tests/test_hostiles.py, tests/test_metadatos_perdidos.py y tests/test_aislamiento.py.
- :class:`SanitizeAnswers` y :class:`FeedbackExporter`: comentarios (feedback) en los que el
  HTML de la entrega no ejecuta nada (``<script>``, ``onerror=``…).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import bleach
import nbformat
from jinja2 import pass_context
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, OverwriteCells
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, Integer, List, Unicode

from course_grading import sandbox
from course_grading.kernel import MARKER
from course_grading.restore import RestoreMetadata


class ShortTracebacks(Preprocessor):
    """Deja cada error de una celda calificada en «Tipo: mensaje», sin código alrededor."""

    # En `nbconvert` estos pasos vienen desactivados, y nbgrader los registra sin activarlos.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


# Lo que los comentarios (feedback) dejan pasar del HTML de una entrega: lo que produce Markdown,
# sin ``<script>``, ``<style>``, ``<iframe>`` ni atributos de eventos (``onerror=``…). Lo demás se
# escapa: se ve como texto.
SAFE_TAGS = frozenset(
    {*bleach.ALLOWED_TAGS, "br", "dd", "del", "div", "dl", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img"}
    | {"kbd", "p", "pre", "span", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr"}
)
SAFE_ATTRIBUTES = {
    **bleach.ALLOWED_ATTRIBUTES,
    "*": ["class", "id", "title"],
    "img": ["src", "alt", "title", "width", "height"],
}
SAFE_PROTOCOLS = frozenset({*bleach.ALLOWED_PROTOCOLS, "data"})  # imágenes incrustadas en el Markdown


def clean_html(html: str) -> str:
    """Escapa del HTML todo lo que podría ejecutar código en el navegador."""
    return bleach.clean(html, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES, protocols=SAFE_PROTOCOLS)


class SanitizeAnswers(SanitizeHTML):
    """Salidas sin HTML activo en los comentarios: ni ``<script>`` ni atributos como ``onerror=``.

    Es el ``SanitizeHTML`` de ``nbconvert``, encendido y con la lista de :data:`SAFE_TAGS`: escapa el
    HTML de las salidas ``text/html`` y ``text/markdown`` y de las celdas ``raw``, y quita las salidas
    que ejecutarían código al abrir la página (``application/javascript``, SVG…). Las celdas de
    Markdown las limpia :class:`FeedbackExporter` después de convertirlas a HTML (así el código
    en línea, como ``<unk>``, se sigue viendo bien).
    """

    enabled = Bool(True).tag(config=True)
    tags = List(Unicode(), default_value=sorted(SAFE_TAGS)).tag(config=True)
    attributes = AnyTrait(default_value=SAFE_ATTRIBUTES).tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "markdown":
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


class FeedbackExporter(HTMLExporter):
    """El ``HTMLExporter`` de los comentarios: el Markdown de cada celda pasa por :func:`clean_html`."""

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        return clean_html(super().markdown2html(context, source))


# --- Corrección endurecida -------------------------------------------------------------------
# Lo que sigue protege la corrección de entregas hostiles o rotas: ver la guía para docentes
# del README y tests/test_hostiles.py, que prueba cada defensa con una entrega que la ataca.

KERNEL_NAME = "curso-calificacion"
NOT_RUN = "CeldaNoEjecutada"
# Lo que en el código del alumno sugiere tocar el intérprete: no se penaliza solo, se señala al
# docente. ``exec(``, ``eval(`` y ``compile(`` sueltos: ``modelo.eval()`` no cuenta.
SUSPICIOUS = re.compile(
    r"get_ipython|set_custom_exc|input_transformers|ast_transformers|events\.register|__builtins__|"
    r"\bbuiltins\b|sys\.modules|sys\.settrace|excepthook|showtraceback|\bos\._exit|(?<![\w.])(?:exec|eval|compile)\(|"
    r"importlib|__import__|\bgc\b|\binspect\b|ctypes|subprocess|\bsignal\b|threading|"
    r"\bsetattr\((torch|checks|course_lib|np)\b|\b(torch|checks|np|F)(\.\w+)+\s*=[^=]|gradebook|solutions"
)


def is_instructor_cell(cell: NotebookNode) -> bool:
    """¿Es una celda bloqueada de la fuente (prueba, configuración, comprobación)?

    Tras el saneado de nbgrader (``OverwriteCells``) su código es el de la base de notas, no
    el del alumno: lo confirma que su suma de comprobación coincida con su código.
    """
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not (meta.get("grade_id") and utils.is_locked(cell)) or utils.is_solution(cell):
        return False
    return meta.get("checksum") == utils.compute_checksum(cell)


def suspicious_answers(nb: NotebookNode) -> dict[str, list[str]]:
    """``{celda: [fragmentos]}`` del código del alumno que parece tocar el intérprete o el curso.

    Lee toda celda de código que el alumno pudo escribir: las respuestas (por su
    ``grade_id``) y cualquier otra, también las que añadió (``celda <n>``, contando desde
    1); solo se saltan las celdas bloqueadas de la fuente (:func:`is_instructor_cell`).
    """
    found = {}
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or is_instructor_cell(cell):
            continue
        hits = sorted({m.group(0).strip() for m in SUSPICIOUS.finditer(cell.source)})
        if hits:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            name = meta.get("grade_id") if meta.get("solution") else None
            found[name or f"celda {number}"] = hits
    return found


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """El ``Execute`` de nbgrader con las defensas del curso.

    - Núcleo :data:`KERNEL_NAME` (aislado y con límites; ver :mod:`course_grading.sandbox`), sea cual
      sea el ``kernelspec`` del cuaderno (Colab, Jupyter antiguo…).
    - Antepone :data:`course_grading.kernel.MARKER` a las celdas de prueba: el núcleo restaura su
      estado limpio antes de ejecutarlas.
    - Si el núcleo muere (``os._exit``, memoria, CPU) o se queda colgado tras un tiempo límite,
      las celdas que faltan no se ejecutan y cada una recibe un error: puntúan 0 y el resto de la
      nota (lo ya ejecutado) se conserva. La corrección de los demás sigue.
    - Limita los bytes de salida por celda (los errores se guardan siempre).
    - Antes de nada comprueba que el núcleo se puede aislar (:func:`check_isolation`): si no, no
      corrige y explica por qué y cómo salir; con ``CURSO_AISLAMIENTO=si_es_posible`` corrige
      sin aislar y cada línea del registro lo dice («SIN AISLAMIENTO»).
    - Habla con el núcleo por sockets de Unix en una carpeta temporal propia (el núcleo aislado no
      tiene red, ni siquiera ``127.0.0.1``).
    - Arranca siempre el :mod:`course_grading.sandbox` de ESTE proceso (:class:`SandboxKernelSpecs`), nunca
      el que diga un ``kernel.json`` compartido: otro árbol del curso con el mismo entorno (un clon
      que recoge entregas y luego se borra) no puede cambiar qué núcleo arranca esta corrección.
    - Si el núcleo muere o no responde al arrancar, dice por qué: su estado de salida y sus últimas
      líneas de error (:class:`KernelStartupError`; el resto del tiempo su salida de errores
      sigue llegando a la terminal de nbgrader, como siempre).
    - Si la ejecución entera falla (p. ej. un núcleo que no arrancó a tiempo en una máquina
      cargada), la repite con un núcleo nuevo hasta ``execute_retries`` veces (1 con
      :func:`harden`), tras ``startup_retry_pause`` segundos si el núcleo no arrancó. Es la opción
      de nbgrader, que nbgrader 0.9.6 declara pero no usa.
    """

    kernel_name = Unicode(KERNEL_NAME).tag(config=True)
    max_output_bytes = Integer(200_000, help="Bytes de salida que se guardan por celda.").tag(config=True)
    probe_timeout = Integer(15, help="Segundos para comprobar que el núcleo responde tras un tiempo límite.").tag(
        config=True
    )
    startup_retry_pause = Float(
        5.0, help="Segundos de espera antes de repetir con un núcleo nuevo si el anterior no arrancó."
    ).tag(config=True)

    def _reset(self) -> None:
        """Estado de una ejecución del cuaderno (se vacía antes de cada intento)."""
        self._stopped: str | None = None
        self._output_bytes: dict[int, int] = {}
        self._truncated: set[int] = set()

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> tuple[NotebookNode, Any]:
        info = (resources or {}).get("nbgrader", {})
        submission = f"{info.get('student', '?')}/{info.get('notebook', '?')}"
        if not check_isolation(self.log):
            self.log.warning("Corrigiendo %s SIN AISLAMIENTO (CURSO_AISLAMIENTO=%s).", submission, _policy())
        self._reset()
        flagged = suspicious_answers(nb)
        if flagged:
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in flagged.items())
            self.log.warning(
                "REVISAR A MANO: la entrega %s tiene código que toca el intérprete o el curso (%s)", submission, details
            )
        original = copy.deepcopy(nb)
        for attempt in range(self.execute_retries + 1):
            try:
                return super().preprocess(copy.deepcopy(original) if attempt else nb, resources, km)
            except Exception as error:
                startup = isinstance(error, KernelStartupError)
                if startup:
                    self.log.warning("El núcleo de %s no arrancó.\n%s", submission, error.details)
                if attempt == self.execute_retries:
                    raise
                self.log.warning(
                    "La ejecución de %s falló (%s: %s); se repite con un núcleo nuevo (intento %d de %d).",
                    submission,
                    type(error).__name__,
                    error,
                    attempt + 2,
                    self.execute_retries + 1,
                )
                self._reset()
                if startup and self.startup_retry_pause > 0:
                    time.sleep(self.startup_retry_pause)  # p. ej. una máquina que estaba sin memoria un momento
        raise AssertionError("inalcanzable")

    def create_kernel_manager(self) -> Any:
        """El núcleo de este proceso; sockets de Unix en una carpeta temporal propia (el aislado no tiene red)."""
        km = super().create_kernel_manager()
        if self.kernel_name == KERNEL_NAME:
            km.kernel_spec_manager = SandboxKernelSpecs()
        self._stderr: KernelStderr | None = None
        self._runtime = tempfile.mkdtemp(prefix="curso-nucleo-")
        km.transport = "ipc"
        km.connection_file = os.path.join(self._runtime, "kernel.json")
        km.ip = os.path.join(self._runtime, "ipc")
        return km

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        """Arranca el núcleo con su salida de errores en una tubería: se reenvía y se guarda su final."""
        kwargs.setdefault("stderr", subprocess.PIPE)
        await super().async_start_new_kernel(**kwargs)
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        self._stderr = KernelStderr(process) if process is not None and process.stderr else None

    start_new_kernel = run_sync(async_start_new_kernel)

    async def async_start_new_kernel_client(self) -> Any:
        """Si el núcleo no llega a responder, :class:`KernelStartupError` con su estado de salida y sus errores."""
        try:
            return await super().async_start_new_kernel_client()
        except Exception as error:  # ``nbclient`` ya lo apagó y limpió (``_async_cleanup_kernel``)
            raise KernelStartupError.of(error, getattr(self, "_stderr", None), self.startup_timeout) from error

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    async def _async_cleanup_kernel(self) -> None:
        try:
            await super()._async_cleanup_kernel()
        finally:
            stderr = getattr(self, "_stderr", None)
            if stderr is not None:
                await asyncio.to_thread(stderr.close)  # que llegue a la terminal todo lo que escribió
            if getattr(self, "_runtime", None):
                shutil.rmtree(self._runtime, ignore_errors=True)

    # ``nbconvert`` apaga el núcleo con la versión síncrona: ligada a la de ``NotebookClient``, la carpeta
    # temporal del núcleo quedaba en /tmp tras cada cuaderno.
    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    async def async_execute_cell(
        self, cell: NotebookNode, cell_index: int, execution_count: int | None = None, store_history: bool = True
    ) -> NotebookNode:
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._stopped:
            cell.outputs = [_error(NOT_RUN, self._stopped)]
            return cell
        source = cell.source
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell.source = f"{MARKER}\n{source}"
        try:
            await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            self._stopped = f"el núcleo se detuvo en la celda {cell_index} (¿os._exit, memoria o tiempo de CPU?)"
            self.log.warning("El núcleo murió en la celda %s; las siguientes no se ejecutan.", cell_index)
            cell.outputs.append(_error("NucleoDetenido", self._stopped))
        except CellTimeoutError:
            # Interrumpido, el núcleo sigue ocupado (p. ej. un bucle que se traga KeyboardInterrupt).
            cell.outputs.append(_error("CellTimeoutError", f"la celda pasó de {self.timeout} s y no se detuvo"))
        finally:
            cell.source = source
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])) and not await self._responds():
            self._stopped = f"la celda {cell_index} no terminó y el núcleo no respondió tras interrumpirlo"
            self.log.warning("El núcleo no responde tras la celda %s; las siguientes no se ejecutan.", cell_index)
            await ensure_async(self.km.shutdown_kernel(now=True))
        return cell

    # NotebookClient liga su versión síncrona a SU async_execute_cell: hay que volver a ligarla.
    execute_cell = run_sync(async_execute_cell)

    async def _responds(self) -> bool:
        """Tras un tiempo límite: ¿el núcleo interrumpido vuelve a ejecutar algo?"""
        probe = nbformat.v4.new_code_cell("pass")
        timeout, self.timeout = self.timeout, self.probe_timeout
        try:
            await super().async_execute_cell(probe, -1, store_history=False)
        except (DeadKernelError, CellTimeoutError):
            return False
        finally:
            self.timeout = timeout
        return not any(o.get("ename") == "CellTimeoutError" for o in probe.get("outputs", []))

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> NotebookNode | None:
        if msg["msg_type"] != "error":
            used = self._output_bytes.get(cell_index, 0) + len(json.dumps(msg.get("content", {}), default=str))
            self._output_bytes[cell_index] = used
            if used > self.max_output_bytes:
                if cell_index not in self._truncated:
                    self._truncated.add(cell_index)
                    note = f"… salida recortada: más de {self.max_output_bytes // 1000} kB en esta celda.\n"
                    outs.append(NotebookNode(output_type="stream", name="stderr", text=note))
                return None
        return super().output(outs, msg, display_id, cell_index)


class KernelStderr:
    """La salida de errores de un núcleo: la reenvía a la de este proceso y guarda sus últimas líneas.

    Así, si el núcleo muere al arrancar, :class:`KernelStartupError` puede decir qué escribió
    antes de morir (``python: can't open file …``, un ``mount`` que falló en el aislamiento…).
    """

    def __init__(self, process: subprocess.Popen, keep: int = 20) -> None:
        self.process = process
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._thread = threading.Thread(target=self._pump, name="stderr-del-nucleo", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for raw in iter(self.process.stderr.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            self.lines.append(line.rstrip())
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except (OSError, ValueError):
                pass  # terminal cerrada: se sigue guardando el final
        self.process.stderr.close()

    def close(self, timeout: float = 5.0) -> None:
        """Espera (como mucho ``timeout`` s) a que el núcleo cierre su salida de errores."""
        self._thread.join(timeout)

    def exit_status(self, timeout: float = 5.0) -> int | None:
        """El estado de salida del núcleo (``None`` si sigue vivo tras ``timeout`` s)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


STARTUP_FAILED = "el núcleo de corrección no arrancó"


class KernelStartupError(RuntimeError):
    """El núcleo de corrección no llegó a responder: por qué, con su estado de salida y sus errores.

    El mensaje cabe en una línea (nbgrader lo deja al final de su traza, y ``make autograde`` lo
    copia en su resumen); :attr:`details` trae las últimas líneas de error completas.
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details or message

    @classmethod
    def of(cls, error: BaseException, stderr: KernelStderr | None, startup_timeout: int) -> KernelStartupError:
        status = stderr.exit_status() if stderr is not None else None
        if stderr is not None:
            stderr.close()
        lines = [line for line in (stderr.lines if stderr is not None else []) if line.strip()]
        if status is None:
            what = f"no respondió en {startup_timeout} s ({type(error).__name__}: {error})"
        elif status < 0:
            what = f"murió, terminado por la señal {-status}"
        else:
            what = f"murió (estado de salida {status})"
        # De una traza, lo que dice qué pasó: las líneas sin sangría (``MemoryError``), no el camino.
        headlines = [line for line in lines if not line[0].isspace() and not line.startswith("Traceback (")]
        said = f"; sus últimos errores: «{' ⏎ '.join(headlines[-2:])}»" if headlines else "; no escribió ningún error"
        details = "\n".join(f"    {line}" for line in lines) or "    (sin salida de errores)"
        message = f"{STARTUP_FAILED}: {what}{said}"
        return cls(message, f"{message}.\n  Su salida de errores:\n{details}")


def _spec() -> dict[str, Any]:
    """El núcleo :data:`KERNEL_NAME` de este proceso: su Python y el ``sandbox.py`` del ``course_grading`` importado."""
    return {
        "argv": [sys.executable, str(Path(sandbox.__file__).resolve()), "-f", "{connection_file}"],
        "display_name": "Corrección del curso (aislada)",
        "language": "python",
        "metadata": {"debugger": False},
    }


class SandboxKernelSpecs(KernelSpecManager):
    """Da :data:`KERNEL_NAME` desde la memoria de este proceso, sin leer ningún ``kernel.json``.

    Antes el núcleo salía de ``<entorno>/share/curso-calificacion/kernels/…/kernel.json``, que
    :func:`harden` reescribía en cada árbol del curso que cargaba ``nbgrader_config.py`` con ese
    entorno: un clon que recogía entregas (``python -m course_grading.lms``) lo dejaba apuntando a
    SU ``sandbox.py`` y, al borrarse el clon, los núcleos de la corrección en curso morían al
    arrancar (``python: can't open file …/sandbox.py``, estado 2). Los demás núcleos, como siempre.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == KERNEL_NAME:
            return KernelSpec(resource_dir=str(Path(sandbox.__file__).resolve().parent), **_spec())
        return super().get_kernel_spec(kernel_name)


def install_kernelspec(base: str | Path | None = None) -> Path:
    """Escribe (si falta o cambió) el kernelspec :data:`KERNEL_NAME`; devuelve su carpeta base.

    Solo para arrancar el núcleo a mano (``benchmarks/nucleo_calificacion.py``): la corrección no lo
    usa (:class:`SandboxKernelSpecs`). Va a ``<entorno>/share/curso-calificacion/kernels/`` y no a la
    carpeta de núcleos de Jupyter, para que JupyterLab no lo ofrezca al alumnado.
    """
    base = Path(base or Path(sys.prefix) / "share" / "curso-calificacion")
    spec = _spec()
    path = base / "kernels" / KERNEL_NAME / "kernel.json"
    if not path.exists() or json.loads(path.read_text(encoding="utf-8")) != spec:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(spec, indent=1, ensure_ascii=False), encoding="utf-8")
        except PermissionError:
            # Un Python del sistema, sin permiso de escritura: a la carpeta de datos del usuario.
            from jupyter_core.paths import jupyter_data_dir

            user = Path(jupyter_data_dir()).parent / "curso-calificacion"
            if base == user:
                raise
            return install_kernelspec(user)
    return base


class IsolationUnavailable(RuntimeError):
    """No se puede aislar el núcleo y nadie pidió corregir sin aislamiento."""


class _Unisolated(logging.Filter):
    """Antepone «SIN AISLAMIENTO» a cada línea del registro de una corrección sin aislar."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(UNISOLATED):
            record.msg = f"{UNISOLATED} · {record.msg}"
        return True


UNISOLATED = "SIN AISLAMIENTO"


def _policy() -> str:
    return os.environ.get(sandbox.POLICY, "obligatorio")


def isolation_message(problem: str) -> str:
    """El mensaje que para la corrección: por qué no se aísla y las salidas exactas."""
    return (
        f"No corrijo: no puedo aislar el núcleo de corrección porque {problem}.\n"
        "Sin aislamiento, el código de cada entrega podría leer las soluciones, la base de notas (con las "
        "pruebas ocultas) y tu carpeta personal, y usar la red. Salidas:\n"
        "  1. Activar el aislamiento. En Ubuntu 24.04 (AppArmor), hasta reiniciar:\n"
        "       `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`\n"
        "     o, para siempre y solo para `unshare`, un perfil de AppArmor (ver «Entregas hostiles o rotas» "
        "en el README). Sin `unshare`: `sudo apt install util-linux`. En macOS o Windows: corrige en Linux "
        "(una máquina virtual).\n"
        f"  2. Corregir sin aislar, a sabiendas: {sandbox.POLICY}=si_es_posible make autograde\n"
        f"     (cada línea del registro de esa corrección dirá «{UNISOLATED}»)."
    )


def check_isolation(log: logging.Logger | logging.LoggerAdapter) -> bool:
    """¿Se corrige aislado? Si no se puede y no se pidió lo contrario, lanza :class:`IsolationUnavailable`.

    Con ``CURSO_AISLAMIENTO=si_es_posible`` (o ``no``) devuelve ``False`` y desde ese momento cada
    línea de ``log`` empieza por «SIN AISLAMIENTO».
    """
    policy = _policy()
    problem = "se pidió no aislar (CURSO_AISLAMIENTO=no)" if policy == "no" else sandbox.isolation_problem()
    if problem is None:
        return True
    if policy not in ("si_es_posible", "no"):
        message = isolation_message(problem)
        log.error(message)
        raise IsolationUnavailable(message)
    logger = getattr(log, "logger", log)
    if not any(isinstance(f, _Unisolated) for f in logger.filters):
        logger.addFilter(_Unisolated())
    return False


def harden(c: Any, root: str | Path, timeout: int = 120) -> None:
    """Configura nbgrader (el objeto ``c`` de ``nbgrader_config.py``) para corregir con defensas.

    root: el directorio del curso, que el núcleo de corrección no verá (salvo la entrega que
    corrige). Si guardas la base de notas fuera de ``root``, añade su ruta a la variable
    ``CURSO_CALIFICACION_OCULTAR`` (rutas separadas por ``os.pathsep``).
    """
    from nbgrader.converters.autograde import Autograde

    # Sin ``kernel.json`` compartido: ``GuardedExecute`` arranca el ``sandbox.py`` de este proceso.
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    c.Autograde.autograde_preprocessors = [GuardedExecute if p is Execute else p for p in default]
    # Antes de que ``OverwriteCells`` reescriba las celdas bloqueadas: les devuelve los metadatos perdidos.
    sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
    at = sanitize.index(OverwriteCells)
    c.Autograde.sanitize_preprocessors = [*sanitize[:at], RestoreMetadata, *sanitize[at:]]
    c.GuardedExecute.timeout = timeout
    c.GuardedExecute.execute_retries = 1  # un núcleo que no arrancó a tiempo en una máquina cargada
    c.GuardedExecute.interrupt_on_timeout = True
    c.GuardedExecute.error_on_timeout = {
        "ename": "CellTimeoutError",
        "evalue": f"la celda pasó de {timeout} s y se interrumpió",
        "traceback": [f"CellTimeoutError: la celda pasó de {timeout} s y se interrumpió"],
    }
    hidden = [p for p in os.environ.get(sandbox.HIDE, "").split(os.pathsep) if p]
    course = str(Path(root).resolve())
    os.environ[sandbox.HIDE] = os.pathsep.join([*hidden, course] if course not in hidden else hidden)
    os.environ.setdefault(sandbox.POLICY, "obligatorio")
    if _policy() != "obligatorio":
        # Corrección sin aislar pedida a sabiendas: que lo diga desde la primera línea de autograde.
        check_isolation(logging.getLogger("AutogradeApp"))


def isolation_precheck() -> int:
    """Antes de corregir nada (``make autograde``): 0 si se puede corregir; si no, el mensaje y 1.

    Se puede corregir si el núcleo se aísla o si se pidió corregir sin aislar
    (``CURSO_AISLAMIENTO=si_es_posible`` o ``no``, y entonces lo avisa). Así ``make autograde``
    se para antes del primer cuaderno, en lugar de fallar en cada uno.
    """
    policy = _policy()
    problem = "se pidió no aislar (CURSO_AISLAMIENTO=no)" if policy == "no" else sandbox.isolation_problem()
    if problem is None:
        return 0
    if policy in ("si_es_posible", "no"):
        print(f"Aviso: se corrige {UNISOLATED}: {problem}.", flush=True)
        return 0
    print(isolation_message(problem), file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":  # python -m course_grading.preprocessors: la comprobación de make autograde
    sys.exit(isolation_precheck())
