"""Errores frecuentes de ``FeedForward``, ``EncoderLayer``, ``DecoderLayer`` y ``Transformer`` (cuaderno 06).

Cada función recalcula, con las piezas del propio módulo del alumno (``W_1``, ``self_attn``,
``norm1``…), lo que daría cada error; las pruebas las llaman ANTES de ``checks.forbid`` y las
pasan a ``checks.check_close(..., mistakes=...)``. Si una variante no se puede calcular (por
ejemplo, porque un atributo falta o las formas no encajan), simplemente no se incluye.

Además, :func:`torch_reference_logits` calcula los logits de un ``Transformer`` con las capas
de PyTorch (``nn.TransformerEncoderLayer`` y ``nn.TransformerDecoderLayer`` con los mismos
pesos): la referencia independiente de las pruebas del modelo completo.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from course_lib.mistakes.base import Mistakes

# --- Las pistas, con nombre, para que el cuaderno y las pruebas las reutilicen --------------

FFN_NO_RELU = (
    "parece que no aplicas la ReLU entre W_1 y W_2: sin ella, W_2(W_1 x) es una sola capa lineal "
    "y la red prealimentada no añade nada que no pudiera hacer una matriz."
)
FFN_RELU_OUT = (
    "parece que aplicas la ReLU también a la salida: va solo entre las dos capas, W_2(ReLU(W_1 x)); "
    "la salida debe poder ser negativa."
)
FFN_RELU_IN = "parece que aplicas la ReLU a la entrada, antes de W_1: va después, W_2(ReLU(W_1 x))."

NO_RESIDUAL_ATTN = (
    "falta la conexión residual en la subcapa de atención: hay que sumar la entrada x a la salida de la "
    "subcapa antes de normalizar, norm(x + sub(x))."
)
NO_RESIDUAL_CROSS = (
    "falta la conexión residual en la atención cruzada: suma su entrada antes de normalizar, norm(x + sub(x))."
)
NO_RESIDUAL_FFN = (
    "falta la conexión residual en la red prealimentada: hay que sumar su entrada, norm(x + feed_forward(x))."
)
NO_RESIDUAL_ALL = "faltan las conexiones residuales: cada subcapa es norm(x + sub(x)), no norm(sub(x))."
RESIDUAL_AFTER_NORM = (
    "parece que sumas la residual después de normalizar, x + norm(sub(x)): en post-LN la suma va "
    "dentro de la norma, norm(x + sub(x))."
)
PRE_INSTEAD_OF_POST = (
    "parece que normalizas ANTES de cada subcapa (pre-LN), pero con norm_first=False va después, "
    "como en el artículo: norm(x + dropout(sub(x)))."
)
POST_INSTEAD_OF_PRE = (
    "parece que ignoras norm_first: con norm_first=True la norma va ANTES de la subcapa y la suma "
    "después, x + dropout(sub(norm(x)))."
)
SAME_NORM = (
    "parece que usas la misma LayerNorm en todas las subcapas: cada «Add & Norm» tiene la suya "
    "(norm1 para la primera subcapa, norm2 para la segunda, norm3 para la tercera)."
)
ENCODER_NO_MASK = "parece que no pasas `src_mask` a la autoatención: sin ella los tokens reales atienden al relleno."
DECODER_NO_CAUSAL = "parece que no pasas `tgt_mask` a la autoatención enmascarada: sin ella cada posición ve el futuro."
DECODER_NO_SRC_MASK = (
    "parece que no pasas `src_mask` a la atención cruzada: sin ella el decodificador atiende al relleno del origen."
)
CROSS_WITH_SELF_ATTN = (
    "parece que usas `self_attn` también en la atención cruzada: son dos capas distintas, "
    "`self.cross_attn(x, memory, memory, src_mask)`."
)
CROSS_KV_FROM_DECODER = (
    "las claves y los valores de la atención cruzada salen de `memory` (la salida del codificador) y "
    "las consultas del decodificador: `self.cross_attn(x, memory, memory, src_mask)`."
)
DECODER_ORDER = (
    "el orden de las subcapas del decodificador es: autoatención enmascarada, atención cruzada y red prealimentada."
)

MODEL_NO_POSITIONAL_SRC = (
    "parece que en `encode` no sumas la codificación posicional: `self.positional(self.src_embed(src))`."
)
MODEL_NO_POSITIONAL_TGT = (
    "parece que en `decode` no sumas la codificación posicional: `self.positional(self.tgt_embed(tgt))`."
)
MODEL_NO_POSITIONAL = "parece que no sumas la codificación posicional a los embeddings (ni en `encode` ni en `decode`)."
MODEL_SOFTMAX = (
    "parece que devuelves probabilidades (softmax) en vez de logits: el modelo termina en `self.generator`; "
    "la softmax la aplica la pérdida (o la decodificación)."
)
MODEL_NO_SRC_MASK = (
    "parece que no construyes la máscara de relleno del origen cuando no te la pasan: "
    "`src_mask = self.src_mask(src)` (y úsala en el codificador y en la atención cruzada)."
)
MODEL_NO_CROSS_MASK = (
    "parece que la atención cruzada del decodificador no recibe la máscara de relleno del origen: en `forward`, "
    "si no te pasan `src_mask`, créala con `self.src_mask(src)` antes de codificar y pásala también a "
    "`decode`, que la da a cada capa del decodificador."
)
MODEL_NO_CAUSAL = (
    "parece que el decodificador no usa la máscara causal: si no te pasan `tgt_mask`, usa `self.tgt_mask(tgt)`."
)
MODEL_LAYERWISE_MEMORY = (
    "parece que cada capa del decodificador recibe la salida de la capa del codificador del mismo número: "
    "todas deben recibir `memory`, la salida de la ÚLTIMA capa del codificador."
)
MODEL_NO_FINAL_NORM = (
    "con norm_first=True falta aplicar `encoder_norm` al final del codificador y `decoder_norm` antes de "
    "`generator`: en pre-LN la salida de la última capa aún no está normalizada."
)
MODEL_SWAPPED_EMBEDDINGS = "parece que intercambias los embeddings: el origen usa `src_embed` y el destino `tgt_embed`."


def _collect(builders: dict[str, Callable[[], Tensor]]) -> Mistakes:
    """Calcula cada variante sin gradiente; las que fallan (formas, atributos) no se incluyen."""
    outputs = {}
    with torch.no_grad():
        for hint, build in builders.items():
            try:
                outputs[hint] = build()
            except Exception:  # noqa: BLE001 (una variante imposible de calcular simplemente no cuenta)
                continue
    return Mistakes.from_outputs(outputs)


def feed_forward_mistakes(ff: nn.Module, x: Tensor) -> Mistakes:
    """Errores típicos de ``FeedForward`` (en modo ``eval()``) con los pesos ``W_1`` y ``W_2`` de ``ff``."""
    return _collect(
        {
            FFN_NO_RELU: lambda: ff.W_2(ff.W_1(x)),
            FFN_RELU_OUT: lambda: torch.relu(ff.W_2(torch.relu(ff.W_1(x)))),
            FFN_RELU_IN: lambda: ff.W_2(ff.W_1(torch.relu(x))),
        }
    )


def _post(x: Tensor, norm: Callable, sub: Callable) -> Tensor:
    return norm(x + sub(x))


def _pre(x: Tensor, norm: Callable, sub: Callable) -> Tensor:
    return x + sub(norm(x))


def _no_residual(norm_first: bool) -> Callable:
    """Una subcapa sin conexión residual, con la norma donde toque."""
    if norm_first:
        return lambda x, norm, sub: sub(norm(x))
    return lambda x, norm, sub: norm(sub(x))


def _after_norm(x: Tensor, norm: Callable, sub: Callable) -> Tensor:
    return x + norm(sub(x))


def encoder_layer_mistakes(layer: nn.Module, x: Tensor, src_mask: Tensor | None = None) -> Mistakes:
    """Errores típicos de ``EncoderLayer`` (en modo ``eval()``) con los pesos de ``layer``.

    ``layer`` debe tener ``self_attn``, ``feed_forward``, ``norm1``, ``norm2`` y, si existe,
    ``norm_first`` (por defecto ``False``).
    """
    norm_first = bool(getattr(layer, "norm_first", False))
    good = _pre if norm_first else _post
    bad = _no_residual(norm_first)

    def attn(mask: Tensor | None) -> Callable:
        return lambda h: layer.self_attn(h, h, h, mask)

    def run(first: Callable, second: Callable, mask: Tensor | None = src_mask, norms: tuple | None = None) -> Tensor:
        n1, n2 = norms or (layer.norm1, layer.norm2)
        h = first(x, n1, attn(mask))
        return second(h, n2, layer.feed_forward)

    builders = {
        NO_RESIDUAL_ATTN: lambda: run(bad, good),
        NO_RESIDUAL_FFN: lambda: run(good, bad),
        NO_RESIDUAL_ALL: lambda: run(bad, bad),
        (POST_INSTEAD_OF_PRE if norm_first else PRE_INSTEAD_OF_POST): lambda: run(
            _post if norm_first else _pre, _post if norm_first else _pre
        ),
        SAME_NORM: lambda: run(good, good, norms=(layer.norm1, layer.norm1)),
    }
    if not norm_first:
        builders[RESIDUAL_AFTER_NORM] = lambda: run(_after_norm, _after_norm)
    if src_mask is not None:
        builders[ENCODER_NO_MASK] = lambda: run(good, good, mask=None)
    return _collect(builders)


def decoder_layer_mistakes(
    layer: nn.Module,
    x: Tensor,
    memory: Tensor,
    src_mask: Tensor | None = None,
    tgt_mask: Tensor | None = None,
) -> Mistakes:
    """Errores típicos de ``DecoderLayer`` (en modo ``eval()``) con los pesos de ``layer``.

    ``layer`` debe tener ``self_attn``, ``cross_attn``, ``feed_forward``, ``norm1``, ``norm2``,
    ``norm3`` y, si existe, ``norm_first`` (por defecto ``False``).
    """
    norm_first = bool(getattr(layer, "norm_first", False))
    good = _pre if norm_first else _post
    bad = _no_residual(norm_first)

    def self_attn(mask: Tensor | None) -> Callable:
        return lambda h: layer.self_attn(h, h, h, mask)

    def cross(
        module: nn.Module | None = None, mask: Tensor | None = src_mask, kv_from_decoder: bool = False
    ) -> Callable:
        module = module or layer.cross_attn
        if kv_from_decoder:
            return lambda h: module(h, h, h, mask)
        return lambda h: module(h, memory, memory, mask)

    def run(
        kinds: tuple = (good, good, good),
        first: Callable | None = None,
        second: Callable | None = None,
        norms: tuple | None = None,
        swap: bool = False,
    ) -> Tensor:
        n1, n2, n3 = norms or (layer.norm1, layer.norm2, layer.norm3)
        sub1, sub2 = first or self_attn(tgt_mask), second or cross()
        if swap:
            sub1, sub2 = sub2, sub1
        h = kinds[0](x, n1, sub1)
        h = kinds[1](h, n2, sub2)
        return kinds[2](h, n3, layer.feed_forward)

    flipped = _post if norm_first else _pre
    builders = {
        NO_RESIDUAL_ATTN: lambda: run((bad, good, good)),
        NO_RESIDUAL_CROSS: lambda: run((good, bad, good)),
        NO_RESIDUAL_FFN: lambda: run((good, good, bad)),
        NO_RESIDUAL_ALL: lambda: run((bad, bad, bad)),
        (POST_INSTEAD_OF_PRE if norm_first else PRE_INSTEAD_OF_POST): lambda: run((flipped, flipped, flipped)),
        SAME_NORM: lambda: run(norms=(layer.norm1, layer.norm1, layer.norm1)),
        CROSS_WITH_SELF_ATTN: lambda: run(second=cross(layer.self_attn)),
        CROSS_KV_FROM_DECODER: lambda: run(second=cross(kv_from_decoder=True, mask=None)),
        DECODER_ORDER: lambda: run(swap=True),
    }
    if tgt_mask is not None:
        builders[DECODER_NO_CAUSAL] = lambda: run(first=self_attn(None))
    if src_mask is not None:
        builders[DECODER_NO_SRC_MASK] = lambda: run(second=cross(mask=None))
    return _collect(builders)


def _default_masks(model: nn.Module, src: Tensor, tgt: Tensor) -> tuple[Tensor, Tensor]:
    """Máscaras de relleno del origen ``(B, 1, 1, T_src)`` y causal con relleno del destino ``(B, 1, T, T)``."""
    pad = getattr(model, "pad_id", 0)
    T = tgt.size(1)
    causal = torch.ones(T, T, dtype=torch.bool, device=tgt.device).tril()
    return (src != pad)[:, None, None, :], (tgt != pad)[:, None, None, :] & causal


def transformer_mistakes(model: nn.Module, src: Tensor, tgt: Tensor) -> Mistakes:
    """Errores típicos de ``Transformer.forward(src, tgt)`` sin máscaras (en modo ``eval()``).

    Usa los atributos del modelo (``src_embed``, ``tgt_embed``, ``positional``,
    ``encoder_layers``, ``decoder_layers``, ``encoder_norm``, ``decoder_norm``, ``generator``)
    y llama a cada capa como ``layer(x, mask)`` y ``layer(y, memory, src_mask, tgt_mask)``.
    """
    src_mask, tgt_mask = _default_masks(model, src, tgt)
    padding_only = (tgt != getattr(model, "pad_id", 0))[:, None, None, :]

    def run(
        pos_src: bool = True,
        pos_tgt: bool = True,
        enc_mask: Tensor | None = src_mask,
        cross_mask: Tensor | None = src_mask,
        self_mask: Tensor | None = tgt_mask,
        layerwise: bool = False,
        final_norms: bool = True,
        softmax: bool = False,
        swap_embed: bool = False,
    ) -> Tensor:
        src_embed, tgt_embed = (model.tgt_embed, model.src_embed) if swap_embed else (model.src_embed, model.tgt_embed)
        x = src_embed(src)
        x = model.positional(x) if pos_src else x
        outputs = []
        for layer in model.encoder_layers:
            x = layer(x, enc_mask)
            outputs.append(x)
        memory = model.encoder_norm(x) if final_norms else x
        y = tgt_embed(tgt)
        y = model.positional(y) if pos_tgt else y
        for i, layer in enumerate(model.decoder_layers):
            y = layer(y, outputs[i] if layerwise else memory, cross_mask, self_mask)
        logits = model.generator(model.decoder_norm(y) if final_norms else y)
        return torch.softmax(logits, dim=-1) if softmax else logits

    builders = {
        MODEL_NO_POSITIONAL_SRC: lambda: run(pos_src=False),
        MODEL_NO_POSITIONAL_TGT: lambda: run(pos_tgt=False),
        MODEL_NO_POSITIONAL: lambda: run(pos_src=False, pos_tgt=False),
        MODEL_SOFTMAX: lambda: run(softmax=True),
        MODEL_NO_SRC_MASK: lambda: run(enc_mask=None, cross_mask=None),
        MODEL_NO_CROSS_MASK: lambda: run(cross_mask=None),
        MODEL_NO_CAUSAL: lambda: run(self_mask=padding_only),
        MODEL_LAYERWISE_MEMORY: lambda: run(layerwise=True),
        MODEL_SWAPPED_EMBEDDINGS: lambda: run(swap_embed=True),
    }
    if bool(getattr(model, "norm_first", False)):
        builders[MODEL_NO_FINAL_NORM] = lambda: run(final_norms=False)
    return _collect(builders)


def torch_reference_logits(model: nn.Module, src: Tensor, tgt: Tensor, n_heads: int) -> Tensor:
    """Logits de ``model(src, tgt)`` calculados con las capas de PyTorch, sin usar su ``forward``.

    Cada capa del modelo se copia en un ``nn.TransformerEncoderLayer`` o
    ``nn.TransformerDecoderLayer`` (con :func:`course_lib.transformer_reference.as_torch_encoder_layer` y
    :func:`course_lib.transformer_reference.as_torch_decoder_layer`); los embeddings, la codificación
    posicional, las normas finales y ``generator`` son los del modelo. Máscaras: relleno del
    origen (``pad_id`` del modelo) y causal con relleno del destino, con el convenio de PyTorch
    (``True`` = NO puede atender). Llámala ANTES de ``checks.forbid``: construye capas de PyTorch.

    Returns:
        ``(B, T_tgt, V)``.
    """
    from course_lib.transformer_reference import as_torch_decoder_layer, as_torch_encoder_layer

    pad = getattr(model, "pad_id", 0)
    T = tgt.size(1)
    future = torch.ones(T, T, dtype=torch.bool, device=tgt.device).triu(1)  # (T, T): True = futuro, oculto
    with torch.no_grad():
        x = model.positional(model.src_embed(src))  # (B, T_src, D)
        for layer in model.encoder_layers:
            x = as_torch_encoder_layer(layer, n_heads)(x, src_key_padding_mask=src == pad)
        memory = model.encoder_norm(x)
        y = model.positional(model.tgt_embed(tgt))  # (B, T_tgt, D)
        for layer in model.decoder_layers:
            y = as_torch_decoder_layer(layer, n_heads)(
                y, memory, tgt_mask=future, tgt_key_padding_mask=tgt == pad, memory_key_padding_mask=src == pad
            )
        return model.generator(model.decoder_norm(y))  # (B, T_tgt, V)
