"""Lo que el texto de un cuaderno afirma de un resultado, comprobado por la celda que lo produce.

Los cuadernos se publican sin salidas: una frase como «la gran mayoría de las traducciones
salen exactas» solo es verdad si la celda que entrena y traduce lo comprueba. :func:`claim`
imprime la afirmación con ✓ o, si no se cumple, con :data:`FAILED`, que ``make
cuadernos-completos`` (todos los cuadernos en modo normal) busca en las salidas para fallar.

Muchas afirmaciones solo tienen sentido con el entrenamiento completo: en modo rápido
(``CURSO_RAPIDO``) :func:`claim` no las comprueba y lo dice, salvo las que no dependen del
modo (``fast_mode_too=True``: un cálculo con números fijos, por ejemplo).
"""

from __future__ import annotations

from course_lib.utils import fast_mode

FAILED = "✗ AFIRMACIÓN NO CUMPLIDA:"
SKIPPED = "(modo rápido: no se comprueba)"


def claim(holds: bool, statement: str, measured: str = "", *, fast_mode_too: bool = False) -> None:
    """Imprime ``statement`` con ✓ si ``holds``; si no, con :data:`FAILED` (no devuelve nada: así la
    última línea de una celda no añade un ``True`` a la salida).

    Args:
        holds: si lo medido cumple la afirmación.
        statement: la afirmación, en las palabras del texto.
        measured: lo medido, para que se lea junto a la afirmación (p. ej. ``"(93 %)"``).
        fast_mode_too: comprobarla también en modo rápido (si no depende del entrenamiento).
    """
    detail = f" {measured}" if measured else ""
    if fast_mode() and not fast_mode_too:
        print(f"{SKIPPED} {statement}{detail}")
        return
    print(f"✓ {statement}{detail}" if holds else f"{FAILED} {statement}{detail}")


__all__ = ["FAILED", "SKIPPED", "claim"]
