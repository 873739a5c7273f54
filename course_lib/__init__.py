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
- ``transformer``: ``TransformerConfig`` y el ``Transformer`` completo (06); sus capas están en
  ``transformer_layers``, la caché de la decodificación incremental en ``kv_cache`` y las
  referencias de PyTorch y el recuento de parámetros en ``transformer_reference``.
- ``data``: descarga verificada (SHA-256) de los pares inglés–español y del conjunto de prueba oficial (07).
- ``tokenizer``: tokenizador BPE común al inglés y al español (07).
- ``batching``: lotes agrupados por longitud (07).
- ``train``: ``TrainConfig`` y el bucle de entrenamiento ``fit`` (06 y 07), hecho de piezas pequeñas:
  ``schedule`` (calentamiento y ritmo de aprendizaje), ``losses`` (pérdida con suavizado),
  ``step`` (un paso de optimización con precisión mixta), ``checkpoints`` (guardar y reanudar),
  ``distributed`` (varios procesos con DDP) y ``budget`` (entrenar por tiempo); la receta,
  ``TrainConfig``, y el historial, ``History``, están en ``train_config``.
- ``decode``: búsqueda voraz y en haz (06 y 07).
- ``evaluate``: BLEU y chrF con sacreBLEU (07).
- ``translate``: el traductor de principio a fin (07); la clase ``Translator`` está en
  ``translator`` y la línea de órdenes en ``translate_cli``.
- ``checks``: comprobaciones con mensajes en español (todos los cuadernos).
- ``mistakes``: errores frecuentes reproducidos, para las pistas de las pruebas.
- ``viz``: mapas de calor de pesos de atención (02), también por cabezas (03 en adelante).
- ``utils``: semillas, dispositivo, Colab y modo rápido (todos).
- ``cli``: ``argparse`` con la ayuda y los errores en español (las líneas de órdenes).
- ``tokens``: ``<pad> <sos> <eos> <unk>``, el lote ``Batch`` y el relleno (01 y 07).
- ``seq2seq_training``: entrenar y evaluar el seq2seq de 01 con la gramática.
- ``gpt``: el modelo de lenguaje solo con decodificador, su pérdida, el muestreo y la generación (08).
- ``bert``: el modelo de lenguaje enmascarado, solo con codificador, y la regla 80/10/10 (08).
- ``pretraining``: entrenar los dos con ``fit`` y los lotes del traductor de 07 (08).

Las herramientas de quien corrige con nbgrader (preprocesadores, núcleo de corrección,
aislamiento, LMS) están aparte, en el paquete ``course_grading``: el alumnado no las usa.
Las tablas de errores frecuentes y de rutas prohibidas que usan las pruebas de los
cuadernos sí están aquí (``mistakes``), porque esas pruebas también corren sin nbgrader.

Los nombres se importan al usarlos por primera vez (véase ``__getattr__`` al final del
bloque de importaciones): ``import course_lib`` es ligero.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from typing import Any

# Carga perezosa (PEP 562): ``import course_lib`` no importa nada más, y cada nombre de abajo
# importa su módulo la primera vez que se usa. Así ``from course_lib import checks`` (lo que
# hace cada prueba de un cuaderno) no carga el bucle de entrenamiento, los tokenizadores ni
# sacreBLEU. Nombre exportado → módulo de course_lib que lo define.
_EXPORTS = {
    "SelfAttention": "attention",
    "scaled_dot_product_attention": "attention",
    "cosine_similarity": "basics",
    "softmax": "basics",
    "BatchSource": "batching",
    "padding_fraction": "batching",
    "drop_test_overlap": "data",
    "load_spa_eng": "data",
    "load_tatoeba_test": "data",
    "split_pairs": "data",
    "beam_search": "decode",
    "greedy_decode": "decode",
    "Scores": "evaluate",
    "corpus_scores": "evaluate",
    "causal_mask": "masks",
    "decoder_mask": "masks",
    "padding_mask": "masks",
    "EncoderOnlyLM": "bert",
    "mask_tokens": "bert",
    "DecoderOnlyLM": "gpt",
    "generate": "gpt",
    "lm_loss": "gpt",
    "sample_next_token": "gpt",
    "MultiHeadAttention": "multihead",
    "merge_heads": "multihead",
    "split_heads": "multihead",
    "PositionalEncoding": "positional",
    "TokenEmbedding": "positional",
    "sinusoidal_encoding": "positional",
    "AdditiveAttention": "seq2seq",
    "attention_context": "seq2seq",
    "dot_scores": "seq2seq",
    "BPETokenizer": "tokenizer",
    "train_tokenizer": "tokenizer",
    "label_smoothing_loss": "losses",
    "noam_lr": "schedule",
    "DecoderLayer": "transformer",
    "EncoderLayer": "transformer",
    "FeedForward": "transformer",
    "Transformer": "transformer",
    "TransformerConfig": "transformer",
    "fast_mode": "utils",
    "get_device": "utils",
    "in_colab": "utils",
    "seed_everything": "utils",
    "setup": "utils",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"course_lib.{_EXPORTS[name]}"), name)
        globals()[name] = value  # la próxima vez, sin pasar por aquí
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"course_lib.{name}") is not None:
        return importlib.import_module(f"course_lib.{name}")  # ``course_lib.grammar`` tras ``import course_lib``
    raise AttributeError(f"course_lib no tiene el nombre {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


# Repositorio del curso: el ÚNICO lugar donde se define. Las insignias de Colab y la
# celda de configuración de cada cuaderno deben coincidir con él (lo comprueba
# tests/test_repositorio.py). Si haces un fork, cambia esta línea y los cuadernos.
REPO_URL = "https://github.com/atencion-y-transformers/curso"
REPO_BRANCH = "main"

# La versión del curso instalado (la de pyproject.toml; la cambia ci/version.py).
try:
    __version__ = importlib.metadata.version("atencion-transformers")
except importlib.metadata.PackageNotFoundError:  # el código sin instalar (p. ej. desde una copia)
    __version__ = "0+sin-instalar"

__all__ = [
    "REPO_BRANCH",
    "REPO_URL",
    "AdditiveAttention",
    "BPETokenizer",
    "BatchSource",
    "DecoderLayer",
    "DecoderOnlyLM",
    "EncoderLayer",
    "EncoderOnlyLM",
    "FeedForward",
    "MultiHeadAttention",
    "PositionalEncoding",
    "Scores",
    "SelfAttention",
    "TokenEmbedding",
    "Transformer",
    "TransformerConfig",
    "attention_context",
    "beam_search",
    "causal_mask",
    "corpus_scores",
    "cosine_similarity",
    "decoder_mask",
    "dot_scores",
    "drop_test_overlap",
    "fast_mode",
    "generate",
    "get_device",
    "greedy_decode",
    "in_colab",
    "label_smoothing_loss",
    "lm_loss",
    "load_spa_eng",
    "load_tatoeba_test",
    "mask_tokens",
    "merge_heads",
    "noam_lr",
    "padding_fraction",
    "padding_mask",
    "sample_next_token",
    "scaled_dot_product_attention",
    "seed_everything",
    "setup",
    "sinusoidal_encoding",
    "softmax",
    "split_heads",
    "split_pairs",
    "train_tokenizer",
]
