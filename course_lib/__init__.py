"""Biblioteca del curso «Atención y Transformers».

Reúne lo que los cuadernos importan: implementaciones de referencia de cada
ejercicio (para que un cuaderno posterior no dependa de lo que escribiste en uno
anterior), las comprobaciones que dan pistas en español, gráficos y utilidades.

Qué se explica en qué cuaderno:

- ``attention``: atención por producto escalar escalado y ``SelfAttention`` (02).
- ``checks``: comprobaciones con mensajes en español (todos los cuadernos).
- ``mistakes``: errores frecuentes reproducidos, para las pistas de las pruebas.
- ``viz``: mapas de calor de pesos de atención (02), también por cabezas (03 en adelante).
- ``utils``: semillas, dispositivo, Colab y modo rápido (todos).
"""

from course_lib.attention import SelfAttention, scaled_dot_product_attention
from course_lib.utils import fast_mode, get_device, in_colab, seed_everything, setup

# Repositorio del curso: el ÚNICO lugar donde se define. Las insignias de Colab y la
# celda de configuración de cada cuaderno deben coincidir con él (lo comprueba
# tests/test_repositorio.py). Si haces un fork, cambia esta línea y los cuadernos.
REPO_URL = "https://github.com/atencion-y-transformers/curso"
REPO_BRANCH = "main"

__all__ = [
    "REPO_BRANCH",
    "REPO_URL",
    "SelfAttention",
    "fast_mode",
    "get_device",
    "in_colab",
    "scaled_dot_product_attention",
    "seed_everything",
    "setup",
]
