"""Biblioteca del curso «Atención y Transformers».

Reúne lo que los cuadernos importan: implementaciones de referencia de cada
ejercicio (para que un cuaderno posterior no dependa de lo que escribiste en uno
anterior), las comprobaciones que dan pistas en español, gráficos y utilidades.

Qué se explica en qué cuaderno:

- ``basics``: softmax estable y similitud coseno (00).
- ``grammar``: corpus sintético español–inglés, vocabulario y lotes (01 y siguientes).
- ``seq2seq``: atención de Luong y de Bahdanau y un traductor con GRU (01).
- ``attention``: atención por producto escalar escalado y ``SelfAttention`` (02).
- ``multihead``: ``split_heads``, ``merge_heads`` y ``MultiHeadAttention`` (03).
- ``positional``: codificación posicional sinusoidal y ``TokenEmbedding`` (04).
- ``masks``: máscaras de relleno, causal y del decodificador (05).
- ``transformer``: capas de codificador y decodificador y el ``Transformer`` completo (06).
- ``data``: descarga (con huella SHA-256 y caché) y lectura de los pares inglés–español reales (07).
- ``checks``: comprobaciones con mensajes en español (todos los cuadernos).
- ``mistakes``: errores frecuentes reproducidos, para las pistas de las pruebas.
- ``viz``: mapas de calor de pesos de atención (02), también por cabezas (03 en adelante).
- ``utils``: semillas, dispositivo, Colab y modo rápido (todos).
"""

from course_lib.attention import SelfAttention, scaled_dot_product_attention
from course_lib.basics import cosine_similarity, softmax
from course_lib.masks import causal_mask, decoder_mask, padding_mask
from course_lib.multihead import MultiHeadAttention, merge_heads, split_heads
from course_lib.positional import PositionalEncoding, TokenEmbedding, sinusoidal_encoding
from course_lib.seq2seq import AdditiveAttention, attention_context, dot_scores
from course_lib.transformer import DecoderLayer, EncoderLayer, FeedForward, Transformer
from course_lib.utils import fast_mode, get_device, in_colab, seed_everything, setup

# Repositorio del curso: el ÚNICO lugar donde se define. Las insignias de Colab y la
# celda de configuración de cada cuaderno deben coincidir con él (lo comprueba
# tests/test_repositorio.py). Si haces un fork, cambia esta línea y los cuadernos.
REPO_URL = "https://github.com/atencion-y-transformers/curso"
REPO_BRANCH = "main"

__all__ = [
    "REPO_BRANCH",
    "REPO_URL",
    "AdditiveAttention",
    "DecoderLayer",
    "EncoderLayer",
    "FeedForward",
    "MultiHeadAttention",
    "PositionalEncoding",
    "SelfAttention",
    "TokenEmbedding",
    "Transformer",
    "attention_context",
    "causal_mask",
    "cosine_similarity",
    "decoder_mask",
    "dot_scores",
    "fast_mode",
    "get_device",
    "in_colab",
    "merge_heads",
    "padding_mask",
    "scaled_dot_product_attention",
    "seed_everything",
    "setup",
    "sinusoidal_encoding",
    "softmax",
    "split_heads",
]
