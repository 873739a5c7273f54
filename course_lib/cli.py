"""``argparse`` en español: la ayuda y los errores de las líneas de órdenes del curso.

Lo usan ``python -m course_lib.translate`` (el traductor, cuaderno 07) y
``python -m course_grading.lms`` (las entregas del LMS). ``argparse`` escribe su ayuda y sus
errores en inglés: aquí se traduce lo que una persona ve, y cada error de uso acaba en una línea
``error: …`` y el código de salida 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

# Los mensajes de ``argparse`` en inglés → su traducción (patrones con \s: no son texto del curso).
ARGPARSE_ES = [
    (r"the\sfollowing\sarguments\sare\srequired:\s(.*)", r"faltan argumentos: \1"),
    (r"unrecognized\sarguments:\s(.*)", r"argumentos desconocidos: \1"),
    (r"argument\s(\S+):\sexpected\sone\sargument", r"a la opción \1 le falta su valor"),
    (r"argument\s(\S+):\snot\sallowed\swith\sargument\s(\S+)", r"la opción \1 no se puede usar junto con \2"),
    (r"argument\s(\S+):\sinvalid\schoice:\s(\S+)\s\(choose\sfrom\s(.*)\)", r"\1 no admite \2; elige entre \3"),
    (r"argument\s(\S+):\sinvalid\s(\w+)\svalue:\s(\S+)", r"\1 no admite el valor \3"),
    (r"^argument\s(\S+):\s", r"\1: "),
]


def to_spanish(message: str) -> str:
    """Un mensaje de error de ``argparse`` → en español (lo que no reconoce queda igual)."""
    for pattern, spanish in ARGPARSE_ES:
        message = re.sub(pattern, spanish, message)
    return message


def positive(kind: type[int] | type[float], what: str) -> Callable[[str], Any]:
    """Un tipo de ``argparse`` que acepta un ``kind`` mayor que 0; si no, explica qué se esperaba (``what``).

    ``positive(int, "un entero")`` para ``--haz``; ``positive(float, "un número de minutos")`` para ``--minutos``.
    """

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = kind(0)
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"debe ser {what} mayor que 0; recibí {text!r}")
        return value

    return parse


class SpanishHelpFormatter(argparse.HelpFormatter):
    """La ayuda con «uso:» en lugar de la palabra inglesa."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


class SpanishArgumentParser(argparse.ArgumentParser):
    """Un ``ArgumentParser`` con la ayuda y los errores en español (también en sus subórdenes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", SpanishHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opciones"
        self.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {to_spanish(message)}\nUsa --help para ver la ayuda.\n")


__all__ = ["SpanishArgumentParser", "SpanishHelpFormatter", "positive", "to_spanish"]
