"""Lo que cada prueba calificada prohíbe llamar: las referencias que resolverían el ejercicio.

Es una regla de la corrección, no del modelo: por eso vive aquí, junto a los errores
frecuentes, y no en los módulos de referencia. Las pruebas de los cuadernos la usan así::

    with checks.forbid(forbidden.MASKS):
        ...  # la respuesta del alumno no puede llamar a las máscaras de course_lib

(véase :func:`course_lib.checks.forbid`). Cada tabla lista rutas completas: las del módulo
de referencia, sus nombres cortos si ``course_lib`` los exporta (``course_lib.padding_mask``)
y lo que PyTorch trae hecho. Las pruebas de ``tests/`` comprueban que cada ruta existe.
"""

# Cuaderno 00 (basics): las referencias del curso y las funciones de PyTorch que resolverían
# los ejercicios.
BASICS = (
    "torch.softmax",
    "torch.nn.functional.softmax",
    "torch.Tensor.softmax",
    "torch.special.softmax",
    "torch.log_softmax",
    "torch.nn.functional.log_softmax",
    "torch.Tensor.log_softmax",
    "torch.special.log_softmax",
    "torch._softmax",
    "torch.cosine_similarity",
    "torch.nn.functional.cosine_similarity",
    "course_lib.basics.softmax",
    "course_lib.basics.cosine_similarity",
    "course_lib.softmax",
    "course_lib.cosine_similarity",
)

# Cuaderno 01 (seq2seq).
SEQ2SEQ = (
    "course_lib.seq2seq.dot_scores",
    "course_lib.seq2seq.attention_context",
    "course_lib.seq2seq.AdditiveAttention",
    "torch.nn.functional.scaled_dot_product_attention",
    "torch._C._nn.scaled_dot_product_attention",
    "course_lib.dot_scores",
    "course_lib.attention_context",
    "course_lib.AdditiveAttention",
)

# Cuaderno 02 (attention): las referencias que resolverían el ejercicio sin implementarlo.
ATTENTION = (
    "torch.nn.functional.scaled_dot_product_attention",
    "torch._C._nn.scaled_dot_product_attention",
    "course_lib.attention.scaled_dot_product_attention",
    "course_lib.scaled_dot_product_attention",
    "course_lib.attention.SelfAttention",
    "course_lib.SelfAttention",
)

# Cuaderno 03 (multihead): las referencias del módulo y lo que PyTorch trae hecho. La atención
# de course_lib (cuaderno 02) no está aquí: en este cuaderno se puede usar.
MULTIHEAD = (
    "torch.nn.MultiheadAttention",
    "torch.nn.modules.activation.MultiheadAttention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch._native_multi_head_attention",
    "course_lib.multihead.split_heads",
    "course_lib.multihead.merge_heads",
    "course_lib.multihead.MultiHeadAttention",
    "course_lib.split_heads",
    "course_lib.merge_heads",
    "course_lib.MultiHeadAttention",
)

# Cuaderno 04 (positional). PyTorch no trae una codificación sinusoidal hecha: solo se prohíben
# las referencias del curso.
POSITIONAL = (
    "course_lib.positional.sinusoidal_encoding",
    "course_lib.positional.PositionalEncoding",
    "course_lib.positional.TokenEmbedding",
    "course_lib.sinusoidal_encoding",
    "course_lib.PositionalEncoding",
    "course_lib.TokenEmbedding",
)

# Cuaderno 05 (masks). No se prohíben torch.tril ni torch.triu: usarlos es una forma legítima
# de resolver el ejercicio. Si course_lib/__init__.py exporta estas funciones, añade aquí también sus rutas cortas
# ("course_lib.padding_mask", …): lo comprueba tests/test_masks.py.
MASKS = (
    "course_lib.masks.padding_mask",
    "course_lib.masks.causal_mask",
    "course_lib.masks.decoder_mask",
    "course_lib.padding_mask",
    "course_lib.causal_mask",
    "course_lib.decoder_mask",
)

# Cuaderno 06 (transformer). La atención de varias cabezas (03), las máscaras (05) y los
# embeddings (04) sí se pueden usar. Las capas se definen en course_lib.transformer_layers y
# course_lib.transformer las reexporta: se prohíben en los dos sitios.
TRANSFORMER = (
    "torch.nn.Transformer",
    "torch.nn.TransformerEncoderLayer",
    "torch.nn.TransformerDecoderLayer",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerDecoder",
    "torch.nn.modules.transformer.Transformer",
    "torch.nn.modules.transformer.TransformerEncoderLayer",
    "torch.nn.modules.transformer.TransformerDecoderLayer",
    "torch.nn.modules.transformer.TransformerEncoder",
    "torch.nn.modules.transformer.TransformerDecoder",
    "course_lib.transformer.FeedForward",
    "course_lib.transformer.EncoderLayer",
    "course_lib.transformer.DecoderLayer",
    "course_lib.transformer.Transformer",
    "course_lib.transformer_layers.FeedForward",
    "course_lib.transformer_layers.EncoderLayer",
    "course_lib.transformer_layers.DecoderLayer",
    "course_lib.FeedForward",
    "course_lib.EncoderLayer",
    "course_lib.DecoderLayer",
    "course_lib.Transformer",
)

# Cuaderno 07 (decode).
DECODE = (
    "course_lib.decode.greedy_decode",
    "course_lib.decode.beam_search",
    "course_lib.greedy_decode",
    "course_lib.beam_search",
)

# Cuaderno 07 (train). Las referencias se definen en course_lib.losses y course_lib.schedule;
# course_lib.train y course_lib las vuelven a exportar: se prohíben las tres rutas.
TRAIN = (
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.nll_loss",
    "torch.nn.CrossEntropyLoss",
    "torch.nn.modules.loss.CrossEntropyLoss",
    "torch._C._nn.cross_entropy_loss",
    "course_lib.losses.label_smoothing_loss",
    "course_lib.schedule.noam_lr",
    "course_lib.train.label_smoothing_loss",
    "course_lib.train.noam_lr",
    "course_lib.label_smoothing_loss",
    "course_lib.noam_lr",
)

# Cuaderno 08 (gpt y bert). La entropía cruzada de PyTorch sí se puede usar en `lm_loss` (lo que se
# pide es el desplazamiento y el relleno), y las capas del curso (EncoderLayer, las máscaras, los
# embeddings) son los bloques con los que se construye `DecoderOnlyLM`: solo se prohíben las
# referencias de este cuaderno y los modelos completos de PyTorch.
GPT_BERT = (
    "course_lib.gpt.lm_loss",
    "course_lib.gpt.DecoderOnlyLM",
    "course_lib.gpt.sample_next_token",
    "course_lib.gpt.generate",
    "course_lib.bert.mask_tokens",
    "course_lib.bert.EncoderOnlyLM",
    "course_lib.lm_loss",
    "course_lib.DecoderOnlyLM",
    "course_lib.sample_next_token",
    "course_lib.generate",
    "course_lib.mask_tokens",
    "course_lib.EncoderOnlyLM",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerDecoder",
    "torch.nn.modules.transformer.TransformerEncoder",
    "torch.nn.modules.transformer.TransformerDecoder",
)
