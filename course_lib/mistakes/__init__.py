"""Errores frecuentes, reproducidos a propósito para reconocerlos en las pruebas.

Las pruebas comparan la respuesta con la referencia; si no coincide pero sí
coincide con uno de estos errores conocidos, el mensaje nombra ese error (véase
``mistakes=`` en :func:`course_lib.checks.check_close`). Por ejemplo:
``checks.check_close(out, expected_out, "out", mistakes=attention_mistakes(q, k, v).out)``.

Un módulo por cuaderno; aquí se reúnen sus funciones.
"""

from course_lib.mistakes.attention import attention_mistakes, self_attention_mistakes
from course_lib.mistakes.base import Mistakes

__all__ = ["Mistakes", "attention_mistakes", "self_attention_mistakes"]
