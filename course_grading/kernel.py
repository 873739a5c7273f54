"""El núcleo de corrección: un IPython que devuelve el intérprete a su estado limpio antes de cada prueba.

Una respuesta puede intentar aprobar sin ser correcta cambiando el propio núcleo: sustituir
``torch.allclose`` o ``course_lib.checks``, instalar un manejador de excepciones que se las
trague (``set_custom_exc``), un transformador de entrada que vacíe las celdas de prueba,
ganchos de eventos, cambios en ``builtins`` o en el propio *shell* (``showtraceback``). Este
módulo toma una foto de todo eso al arrancar el núcleo, antes de ejecutar una sola línea del
alumno, y la restaura antes de cada celda de prueba calificada.

¿Cómo sabe el núcleo qué celda es una prueba? El ejecutor de la corrección
(:class:`course_grading.preprocessors.GuardedExecute`) antepone :data:`MARKER` al código de esas celdas.
La restauración ocurre en :meth:`GradingKernel.do_execute`, fuera de ``run_cell``: ningún
transformador ni gancho del alumno llega a verla.

Límites (documentados en la guía para docentes): un código escrito contra ESTE mecanismo
(que reemplace ``GradingKernel.do_execute`` o deje un hilo que vuelva a parchear durante la
prueba) puede burlarlo; por eso la corrección también señala para revisión a mano las
respuestas que tocan el intérprete (:func:`course_grading.preprocessors.suspicious_answers`).
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Any

from ipykernel.ipkernel import IPythonKernel

MARKER = "# curso: prueba calificada"
# Módulos cuyo contenido se restaura (además de todos los de course_lib).
WATCHED_MODULES = (
    "builtins",
    "math",
    "numpy",
    "numpy.testing",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.testing",
    "torch.linalg",
)


# Referencias que las pruebas de los cuadernos usan: se importan antes de la foto.
PRELOADED = ("attention", "basics", "masks", "multihead", "positional", "seq2seq", "transformer")


def _module_names() -> list[str]:
    return [name for name in sys.modules if name in WATCHED_MODULES or name.split(".")[0] == "course_lib"]


def _is_code(value: Any) -> bool:
    """Funciones, clases y módulos: lo que un parche cambia (los datos del estado se dejan)."""
    return callable(value) or isinstance(value, ModuleType)


def _same_method(owner: Any, name: str) -> bool:
    """¿``owner.name`` es el método de su propia clase ligado a él (lo que hace ipykernel al arrancar)?"""
    value = vars(owner)[name]
    return getattr(value, "__self__", None) is owner and getattr(value, "__func__", None) is getattr(type(owner), name)


def _restore_dict(owner: Any, saved: dict[str, Any], *, drop_new: str = "") -> list[str]:
    """Devuelve a ``saved`` las funciones, clases y módulos de ``owner``; lista los cambiados.

    drop_new: qué nombres nuevos se borran: ``""`` ninguno (módulos: importar un submódulo
    añade nombres legítimos), ``"callables"`` los invocables (clases), ``"shadowing"`` los que
    tapan un método de la clase (instancias: ``shell.showtraceback = …``).
    """
    current = vars(owner)
    changed = []
    for name in [n for n in list(current) if n not in saved]:
        value = current[name]
        drop = (drop_new == "callables" and callable(value)) or (
            drop_new == "shadowing" and callable(value) and hasattr(type(owner), name) and not _same_method(owner, name)
        )
        if drop:
            changed.append(name)
            try:
                delattr(owner, name)
            except (AttributeError, TypeError):
                pass
    for name, value in saved.items():
        if current.get(name, _MISSING) is not value and _is_code(value):
            changed.append(name)
            try:
                setattr(owner, name, value)
            except (AttributeError, TypeError):
                pass
    return changed


_MISSING = object()


class Snapshot:
    """Lo que el alumno no debería poder cambiar, fotografiado al arrancar el núcleo."""

    def __init__(self, kernel: IPythonKernel) -> None:
        shell = kernel.shell
        self.kernel, self.shell = kernel, shell
        self.sys_modules = {name: sys.modules[name] for name in _module_names()}
        self.modules = {name: dict(vars(sys.modules[name])) for name in self.sys_modules}
        self.watched_objects = [shell, kernel, kernel.session, shell.display_pub, shell.displayhook, shell.events]
        self.instances = {id(obj): dict(vars(obj)) for obj in self.watched_objects}
        self.classes = {}
        for obj in self.watched_objects:
            for cls in type(obj).__mro__[:-1]:
                self.classes[cls] = dict(vars(cls))
        import torch

        for cls in (torch.Tensor, torch.nn.Module, BaseException, AssertionError):
            self.classes[cls] = dict(vars(cls))
        self.manager = shell.input_transformer_manager
        self.transforms = {
            "cleanup_transforms": list(self.manager.cleanup_transforms),
            "line_transforms": list(self.manager.line_transforms),
            "token_transformers": list(self.manager.token_transformers),
        }
        self.input_transformers_post = list(shell.input_transformers_post)
        self.ast_transformers = list(shell.ast_transformers)
        self.custom = (shell.custom_exceptions, shell.CustomTB)
        self.sys_hooks = {name: getattr(sys, name) for name in ("excepthook", "displayhook", "breakpointhook")}
        self.events = {name: list(callbacks) for name, callbacks in shell.events.callbacks.items()}

    def restore(self) -> list[str]:
        """Deshace los cambios del alumno; devuelve qué estaba cambiado (para el registro)."""
        changed: list[str] = []
        for name, module in self.sys_modules.items():
            if sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
        for name in [n for n in sys.modules if n.split(".")[0] == "course_lib" and n not in self.sys_modules]:
            sys.modules.pop(name)  # importado después de la foto: que la prueba lo importe de nuevo
        for name, saved in self.modules.items():
            changed += [f"{name}.{attr}" for attr in _restore_dict(self.sys_modules[name], saved)]
        changed += self._forget_lazy_names()
        for cls, saved in self.classes.items():
            changed += [f"{cls.__name__}.{attr}" for attr in _restore_dict(cls, saved, drop_new="callables")]
        for obj in self.watched_objects:
            saved = self.instances[id(obj)]
            changed += [f"{type(obj).__name__}.{a}" for a in _restore_dict(obj, saved, drop_new="shadowing")]
        shell = self.shell
        if shell.input_transformer_manager is not self.manager:
            changed.append("input_transformer_manager")
            shell.input_transformer_manager = self.manager
        for name, saved in self.transforms.items():
            if getattr(self.manager, name) != saved:
                changed.append(name)
            setattr(self.manager, name, list(saved))
        if list(shell.input_transformers_post) != self.input_transformers_post:
            changed.append("input_transformers_post")
        shell.input_transformers_post = list(self.input_transformers_post)
        if list(shell.ast_transformers) != self.ast_transformers:
            changed.append("ast_transformers")
        shell.ast_transformers = list(self.ast_transformers)
        if (shell.custom_exceptions, shell.CustomTB) != self.custom:
            changed.append("set_custom_exc")
        shell.custom_exceptions, shell.CustomTB = self.custom
        for name, hook in self.sys_hooks.items():
            if getattr(sys, name) is not hook:
                changed.append(f"sys.{name}")
                setattr(sys, name, hook)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            changed.append("sys.settrace/setprofile")
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)  # type: ignore[arg-type]
        threading.setprofile(None)  # type: ignore[arg-type]
        return changed

    def _forget_lazy_names(self) -> list[str]:
        """Borra de ``course_lib`` los nombres perezosos cargados después de la foto.

        Un nombre de ``course_lib._EXPORTS`` que no estaba en la foto se carga la primera vez
        que se usa; si el alumno lo asignó (``course_lib.greedy_decode = …``), la restauración
        normal no lo vería. Borrado, la prueba vuelve a cargarlo del módulo que lo define.
        """
        package = self.sys_modules.get("course_lib")
        if package is None:
            return []
        saved, current = self.modules["course_lib"], vars(package)
        changed = []
        for name in [n for n in getattr(package, "_EXPORTS", {}) if n in current and n not in saved]:
            if not str(getattr(current[name], "__module__", "")).startswith("course_lib."):
                changed.append(f"course_lib.{name}")  # no es la referencia: alguien lo asignó
            delattr(package, name)
        return changed

    def swap_events(self) -> dict[str, list[Any]]:
        """Pone los ganchos de eventos del arranque y devuelve los actuales (para volver a ellos)."""
        callbacks = self.shell.events.callbacks
        current = {name: list(fns) for name, fns in callbacks.items()}
        for name in callbacks:
            callbacks[name][:] = self.events.get(name, [])
        return current

    def unswap_events(self, saved: dict[str, list[Any]]) -> None:
        """Tras la prueba, el cuaderno sigue con sus ganchos (p. ej. los de las figuras)."""
        for name, fns in saved.items():
            self.shell.events.callbacks[name][:] = fns


def _preload() -> None:
    """Importa lo que las pruebas usan, para fotografiarlo antes que el alumno."""
    for name in WATCHED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    importlib.import_module("course_lib.checks")

    for name in PRELOADED:
        importlib.import_module(f"course_lib.{name}")
        importlib.import_module(f"course_lib.mistakes.{name}")
    # course_lib carga sus nombres al usarlos (PEP 562): los de estos módulos se cargan ya, para
    # que entren en la foto (las pruebas usan p. ej. course_lib.scaled_dot_product_attention).
    package = importlib.import_module("course_lib")
    for name, module in package._EXPORTS.items():
        if module in PRELOADED:
            getattr(package, name)


class GradingKernel(IPythonKernel):
    """Núcleo IPython que restaura el estado fotografiado antes de cada prueba calificada."""

    implementation = "curso-calificacion"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _preload()
        self._snapshot = Snapshot(self)

    async def do_execute(self, code: str, silent: bool, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if not code.startswith(MARKER):
            return await super().do_execute(code, silent, *args, **kwargs)
        changed = self._snapshot.restore()
        if changed:  # sale en la terminal de nbgrader: una pista para revisar esa entrega a mano
            self.log.warning("Restaurado antes de una prueba calificada: %s", ", ".join(changed[:20]))
        events = self._snapshot.swap_events()
        try:
            return await super().do_execute(code, silent, *args, **kwargs)
        finally:
            self._snapshot.unswap_events(events)
