"""Errores frecuentes sembrados en 06_transformer: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "red_sin_relu",
        "FeedForward",
        "torch.relu(self.W_1(x))",
        "self.W_1(x)",
        "no aplicas la ReLU entre W_1 y W_2",
    ),
    Mistake(
        "red_relu_a_la_salida",
        "FeedForward",
        "self.W_2(self.dropout(hidden))",
        "torch.relu(self.W_2(self.dropout(hidden)))",
        "aplicas la ReLU también a la salida",
    ),
    Mistake(
        "codificador_sin_residual",
        "EncoderLayer",
        "x = self.norm1(x + self.dropout(self.self_attn(x, x, x, src_mask)))",
        "x = self.norm1(self.dropout(self.self_attn(x, x, x, src_mask)))",
        "falta la conexión residual en la subcapa de atención",
    ),
    Mistake(
        "codificador_sin_mascara",
        "EncoderLayer",
        "self.self_attn(x, x, x, src_mask)",
        "self.self_attn(x, x, x)",
        "no pasas `src_mask` a la autoatención",
    ),
    Mistake(
        "codificador_pre_ln_siempre",
        "EncoderLayer",
        "self.norm_first:  # pre-LN",
        "1:  # pre-LN",
        "normalizas ANTES de cada subcapa (pre-LN), pero con norm_first=False",
    ),
    Mistake(
        "decodificador_sin_causal",
        "DecoderLayer",
        "self.self_attn(x, x, x, tgt_mask)",
        "self.self_attn(x, x, x)",
        "no pasas `tgt_mask` a la autoatención enmascarada",
    ),
    Mistake(
        "cruzada_con_self_attn",
        "DecoderLayer",
        "self.cross_attn(x,",
        "self.self_attn(x,",
        "usas `self_attn` también en la atención cruzada",
    ),
    Mistake(
        "modelo_sin_posicional",
        "Transformer",
        "x = self.positional(self.src_embed(src))",
        "x = self.src_embed(src)",
        "no sumas la codificación posicional",
    ),
    Mistake(
        "modelo_con_softmax",
        "Transformer",
        "self.generator(self.decoder_norm(y))",
        "torch.softmax(self.generator(self.decoder_norm(y)), dim=-1)",
        "devuelves probabilidades (softmax) en vez de logits",
    ),
    Mistake(
        "modelo_sin_causal",
        "Transformer",
        "tgt_mask = self.tgt_mask(tgt)",
        "tgt_mask = self.src_mask(tgt)",
        "el decodificador no usa la máscara causal",
    ),
]
