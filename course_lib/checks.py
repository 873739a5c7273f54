"""Comprobaciones con mensajes en español, para las pruebas visibles y ocultas.

Cada comprobación que falla lanza :class:`CheckError` (una ``AssertionError``,
así que nbgrader la cuenta como prueba fallida) con un mensaje que dice:

1. qué se comprobaba,
2. lo esperado frente a lo obtenido (abreviado si es largo),
3. una pista que apunta al error más probable.

Además hay herramientas para que las pruebas ocultas sean justas e
independientes entre ejercicios: :func:`answer` (recupera la respuesta del
cuaderno con un mensaje claro si falta), :func:`forbid` (prohíbe llamar a las
referencias durante una prueba) y :func:`replace_answer` (sustituye
temporalmente un ejercicio por la referencia para no penalizar dos veces el
mismo fallo).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor


class CheckError(AssertionError):
    """Una comprobación del curso ha fallado; el mensaje explica por qué."""

    def _render_traceback_(self) -> list[str]:
        # IPython muestra esto en lugar del traceback: el mensaje ya dice qué falló y
        # dónde mirar, y así no se enseñan las líneas de las pruebas (ocultas o no).
        return [f"\x1b[1;31mCheckError\x1b[0m: {self}"]


class ForbiddenCallError(RuntimeError):
    """Se llamó a una función prohibida durante una prueba calificada."""


def _abridge(value: Any, max_items: int = 6) -> str:
    """Representación corta de un tensor, una forma o cualquier valor."""
    if isinstance(value, Tensor):
        flat = value.detach().flatten()
        items = ", ".join(f"{x:.4g}" for x in flat[:max_items].tolist())
        more = ", …" if flat.numel() > max_items else ""
        return f"tensor de forma {tuple(value.shape)} [{items}{more}]"
    if isinstance(value, torch.Size):
        return str(tuple(value))
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "…"


def fail(what: str, expected: Any = None, obtained: Any = None, hint: str | None = None) -> None:
    """Lanza :class:`CheckError` con el formato común de todos los mensajes."""
    lines = [f"✗ {what}"]
    if expected is not None or obtained is not None:
        lines.append(f"  esperado: {_abridge(expected)}")
        lines.append(f"  obtenido: {_abridge(obtained)}")
    if hint:
        lines.append(f"  Pista: {hint}")
    raise CheckError("\n".join(lines))


def ok(message: str) -> None:
    """Imprime un mensaje de éxito."""
    print(f"✓ {message}")


def check_type(obtained: Any, expected_type: type | tuple[type, ...], name: str, hint: str | None = None) -> None:
    """Comprueba que ``obtained`` es del tipo esperado."""
    if not isinstance(obtained, expected_type):
        names = (
            " o ".join(t.__name__ for t in expected_type)
            if isinstance(expected_type, tuple)
            else expected_type.__name__
        )
        fail(f"`{name}` no es del tipo esperado.", names, type(obtained).__name__, hint)


def check_shape(obtained: Any, expected: Sequence[int], name: str, hint: str | None = None) -> None:
    """Comprueba que ``obtained`` es un tensor con forma ``expected``."""
    check_type(obtained, Tensor, name, hint or "devuelve un torch.Tensor.")
    if tuple(obtained.shape) != tuple(expected):
        fail(f"La forma de `{name}` no es la esperada.", tuple(expected), tuple(obtained.shape), hint)


def check_finite(obtained: Tensor, name: str, hint: str | None = None) -> None:
    """Comprueba que ``obtained`` no contiene NaN ni infinitos."""
    check_type(obtained, Tensor, name)
    bad = ~torch.isfinite(obtained)
    if bad.any():
        fail(
            f"`{name}` contiene {int(bad.sum())} valores NaN o infinitos.",
            "solo valores finitos",
            obtained,
            hint,
        )


def check_close(
    obtained: Any,
    expected: Tensor,
    name: str,
    hint: str | None = None,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    mistakes: Mapping[str, Tensor] | None = None,
) -> None:
    """Comprueba que ``obtained`` coincide numéricamente con ``expected``.

    Args:
        mistakes: errores conocidos, ``{pista: resultado que daría ese error}``. Si el
            resultado obtenido coincide con uno de ellos, su pista sustituye a ``hint``:
            así el mensaje nombra el error concreto en lugar de uno genérico.
    """
    check_shape(obtained, tuple(expected.shape), name, hint)
    obtained_f = obtained.detach().to(torch.float64)
    expected_f = expected.detach().to(torch.float64)
    if torch.allclose(obtained_f, expected_f, atol=atol, rtol=rtol, equal_nan=False):
        return
    for mistake_hint, wrong in (mistakes or {}).items():
        if wrong.shape == obtained.shape and torch.allclose(
            obtained_f, wrong.detach().to(torch.float64), atol=atol, rtol=rtol
        ):
            hint = mistake_hint
            break
    diff = (obtained_f - expected_f).abs()
    worst = float(diff.nan_to_num(float("inf")).max())
    fail(
        f"Los valores de `{name}` no coinciden con los esperados (mayor diferencia: {worst:.3g}).",
        expected,
        obtained,
        hint,
    )


def check_rows_sum_to_one(weights: Tensor, name: str = "weights", rows: Tensor | None = None) -> None:
    """Comprueba que cada fila (última dimensión) de ``weights`` suma 1.

    Args:
        rows: booleana difundible a ``weights.shape[:-1]``; si se da, solo se comprueban
            esas filas (p. ej. las que tienen alguna clave visible).
    """
    check_type(weights, Tensor, name)
    if weights.dim() < 2:
        fail(
            f"`{name}` debería ser una matriz (..., T_q, T_k) de pesos.",
            "al menos 2 dimensiones",
            tuple(weights.shape),
        )
    sums = weights.detach().to(torch.float64).sum(dim=-1)
    bad = ~((sums - 1).abs() <= 1e-4)  # así las filas con NaN también cuentan como mal
    if rows is not None:
        bad = bad & rows.expand_as(bad)
    if bad.any():
        hint = "revisa la dimensión de la softmax: debe normalizar sobre las claves, `dim=-1`."
        columns = weights.detach().to(torch.float64).sum(dim=-2)
        if ((columns - 1).abs() < 1e-4).all():
            hint = (
                "las columnas suman 1 pero las filas no: parece que aplicaste la softmax "
                "sobre la dimensión de las consultas (dim=-2) en vez de sobre las claves (dim=-1)."
            )
        elif torch.isnan(sums).any():
            hint = (
                "hay filas con NaN: ¿una exponencial que se desborda? Usa torch.softmax, "
                "que resta el máximo antes de exponenciar."
            )
        elif (sums < 1 - 1e-4).any() and (sums > -1e-6).all():
            hint = (
                "algunas filas suman menos de 1: ¿pusiste a cero pesos DESPUÉS de la softmax? "
                "La máscara se aplica a las puntuaciones, antes de la softmax."
            )
        fail(
            f"Cada fila de `{name}` debería sumar 1 (es una distribución sobre las claves).",
            "sumas por fila = 1",
            sums,
            hint,
        )


def check_unchanged(before: Tensor, after: Tensor, name: str) -> None:
    """Comprueba que una entrada no se modificó en el sitio (in place)."""
    same = before.shape == after.shape and bool(torch.isclose(before, after, rtol=0.0, atol=0.0, equal_nan=True).all())
    if not same:
        fail(
            f"Tu función modificó su entrada `{name}`.",
            "la entrada intacta",
            after,
            "evita operaciones en el sitio como `x /= …`, `x.add_(…)` o `x[...] = …` "
            "sobre los argumentos; crea tensores nuevos.",
        )


def check_attribute(obj: Any, attr: str, expected_type: type, owner: str, hint: str | None = None) -> Any:
    """Comprueba que ``obj`` tiene el atributo ``attr`` del tipo esperado y lo devuelve."""
    if not hasattr(obj, attr):
        fail(f"`{owner}` no tiene el atributo `{attr}`.", hint=hint or f"créalo en `__init__`: `self.{attr} = …`.")
    value = getattr(obj, attr)
    check_type(value, expected_type, f"{owner}.{attr}", hint)
    return value


# --- Herramientas para que las pruebas ocultas sean justas ---------------------------------


def _notebook_namespace() -> dict[str, Any]:
    main = sys.modules.get("__main__")
    return vars(main) if main is not None else {}


def answer(name: str, namespace: Mapping[str, Any] | None = None) -> Any:
    """Devuelve la respuesta ``name`` definida en el cuaderno, o falla con un mensaje claro."""
    ns = _notebook_namespace() if namespace is None else namespace
    if name not in ns:
        fail(
            f"No encuentro `{name}` en el cuaderno.",
            hint=f"ejecuta la celda donde defines `{name}` (y comprueba que no tenga errores de sintaxis).",
        )
    return ns[name]


def _resolve(path: str) -> tuple[Any, str]:
    """``"torch.nn.functional.softmax"`` → (módulo u objeto que lo contiene, ``"softmax"``)."""
    owner_path, _, attr = path.rpartition(".")
    parts = owner_path.split(".")
    owner: Any = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            owner = getattr(owner, part)
        except AttributeError:
            owner = importlib.import_module(".".join(parts[: i + 1]))
    return owner, attr


@contextlib.contextmanager
def forbid(paths: Sequence[str], namespace: dict[str, Any] | None = None) -> Iterator[None]:
    """Durante el bloque, llamar a cualquiera de ``paths`` lanza :class:`ForbiddenCallError`.

    Sirve para que una respuesta que solo llama a la referencia (la de PyTorch o la de
    ``course_lib``) no puntúe. También se sustituyen los alias del cuaderno que apunten
    al mismo objeto (``sdpa = F.scaled_dot_product_attention``).
    """
    ns = _notebook_namespace() if namespace is None else namespace
    # Primero se resuelve todo: si una ruta no existe, no se ha tocado nada todavía.
    targets = [(path, *_resolve(path)) for path in paths]
    saved = [(owner, attr, getattr(owner, attr)) for _, owner, attr in targets]
    originals = {id(original): path for (path, _, _), (_, _, original) in zip(targets, saved, strict=True)}
    aliases = [(key, value) for key, value in ns.items() if id(value) in originals]
    try:
        for path, owner, attr in targets:
            setattr(owner, attr, _blocked(path))
        for key, value in aliases:
            ns[key] = _blocked(originals[id(value)], alias=True)
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)
        for key, value in aliases:
            ns[key] = value


def _blocked(path: str, alias: bool = False) -> Callable[..., Any]:
    """Una función que ocupa el lugar de ``path`` y falla con un mensaje claro."""
    what = f"`{path}` (ni a un alias suyo)" if alias else f"`{path}`"

    def blocked(*args: Any, **kwargs: Any) -> Any:
        raise ForbiddenCallError(
            f"Esta prueba no permite llamar a {what}: el ejercicio consiste en "
            "implementarlo tú con operaciones básicas de PyTorch."
        )

    return blocked


@contextlib.contextmanager
def replace_answer(name: str, replacement: Any, namespace: dict[str, Any] | None = None) -> Iterator[None]:
    """Sustituye temporalmente la respuesta ``name`` del cuaderno por ``replacement``.

    Así, al probar un ejercicio que usa otro anterior, un fallo en el anterior no
    se cobra dos veces. Úsalo ANTES de :func:`forbid` en el mismo ``with``, para que
    ``replacement`` se lea antes de que ``forbid`` sustituya los alias del cuaderno.
    """
    ns = _notebook_namespace() if namespace is None else namespace
    missing = object()
    previous = ns.get(name, missing)

    # Un envoltorio propio (otro objeto): así forbid() no lo toma por un alias prohibido.
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return replacement(*args, **kwargs)

    ns[name] = stand_in
    try:
        yield
    finally:
        if previous is missing:
            ns.pop(name, None)
        else:
            ns[name] = previous
