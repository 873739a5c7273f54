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
- ``data``: descarga verificada (SHA-256) de los pares inglés–español y del conjunto de prueba oficial (07).
- ``tokenizer``: tokenizador BPE común al inglés y al español (07).
- ``batching``: lotes agrupados por longitud (07).
- ``train``: pérdida con suavizado, calentamiento y bucle de entrenamiento con puntos de control (06 y 07).
- ``decode``: búsqueda voraz y en haz (06 y 07).
- ``evaluate``: BLEU y chrF con sacreBLEU (07).
- ``translate``: el traductor de principio a fin y su línea de órdenes (07).
- ``checks``: comprobaciones con mensajes en español (todos los cuadernos).
- ``mistakes``: errores frecuentes reproducidos, para las pistas de las pruebas.
- ``viz``: mapas de calor de pesos de atención (02), también por cabezas (03 en adelante).
- ``utils``: semillas, dispositivo, Colab y modo rápido (todos).
"""

from course_lib.attention import SelfAttention, scaled_dot_product_attention
from course_lib.basics import cosine_similarity, softmax
from course_lib.batching import BatchSource, padding_fraction
from course_lib.data import drop_test_overlap, load_spa_eng, load_tatoeba_test, split_pairs
from course_lib.decode import beam_search, greedy_decode
from course_lib.evaluate import Scores, corpus_scores
from course_lib.masks import causal_mask, decoder_mask, padding_mask
from course_lib.multihead import MultiHeadAttention, merge_heads, split_heads
from course_lib.positional import PositionalEncoding, TokenEmbedding, sinusoidal_encoding
from course_lib.seq2seq import AdditiveAttention, attention_context, dot_scores
from course_lib.tokenizer import BPETokenizer, train_tokenizer
from course_lib.train import label_smoothing_loss, noam_lr
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
    "BPETokenizer",
    "BatchSource",
    "DecoderLayer",
    "EncoderLayer",
    "FeedForward",
    "MultiHeadAttention",
    "PositionalEncoding",
    "Scores",
    "SelfAttention",
    "TokenEmbedding",
    "Transformer",
    "attention_context",
    "beam_search",
    "causal_mask",
    "corpus_scores",
    "cosine_similarity",
    "decoder_mask",
    "dot_scores",
    "drop_test_overlap",
    "fast_mode",
    "get_device",
    "greedy_decode",
    "in_colab",
    "label_smoothing_loss",
    "load_spa_eng",
    "load_tatoeba_test",
    "merge_heads",
    "noam_lr",
    "padding_fraction",
    "padding_mask",
    "scaled_dot_product_attention",
    "seed_everything",
    "setup",
    "sinusoidal_encoding",
    "softmax",
    "split_heads",
    "split_pairs",
    "train_tokenizer",
]
