"""Un modelo de lenguaje solo con codificador, como BERT, hecho con los bloques del curso (cuaderno 08).

:class:`EncoderOnlyLM` es :class:`course_lib.gpt.DecoderOnlyLM` con otra máscara: la de relleno,
sin la causal, así que cada posición ve la frase entera, antes y después. Se entrena a adivinar
tokens tapados (:func:`mask_tokens`, la regla 80/10/10 de BERT) y sirve para rellenar huecos
(:func:`fill_mask`).

Formas: ``B`` lote, ``T`` longitud, ``V`` vocabulario.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from course_lib.gpt import DecoderOnlyLM
from course_lib.masks import padding_mask

# Etiqueta de las posiciones que la pérdida ignora (la de ``F.cross_entropy`` por defecto).
IGNORE_INDEX = -100
MASK = "<mask>"


def mask_tokens(
    tokens: Tensor,
    mask_id: int,
    vocab_size: int,
    special_ids: Iterable[int],
    p: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Tapa tokens para entrenar como BERT: ``(inputs, labels)``, los dos ``(B, T)``.

    Receta (en este orden, para que con la misma semilla salga lo mismo):

    1. ``chosen``: cada token que no está en ``special_ids`` (relleno incluido) se elige si
       ``torch.rand(…, generator=generator) < p``.
    2. ``action = torch.rand(…, generator=generator)``: de los elegidos, los de ``action < 0.8``
       pasan a ``mask_id``; los de ``0.8 ≤ action < 0.9``, a un token al azar,
       ``torch.randint(vocab_size, …, generator=generator)``; el resto se queda igual.
    3. ``labels``: el token original en los elegidos e :data:`IGNORE_INDEX` (−100) en los demás.

    Args:
        tokens: ``(B, T)`` enteros (no se modifica).
        mask_id: el identificador de ``<mask>``.
        vocab_size: los tokens al azar se sacan de ``[0, vocab_size)``.
        special_ids: los que nunca se eligen (``<pad>``, ``<sos>``, ``<eos>``…).
        p: la fracción de tokens que se eligen (0.15 en BERT).
        generator: un ``torch.Generator`` con semilla, para repetir el sorteo.
    """
    if not isinstance(tokens, Tensor) or tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
        got = tokens.dtype if isinstance(tokens, Tensor) else type(tokens).__name__
        raise TypeError(f"`tokens` debe ser un tensor de enteros (B, T); recibí {got}.")
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"`p` debe ser una probabilidad en [0, 1]; recibí {p!r}.")
    if not isinstance(vocab_size, numbers.Integral) or isinstance(vocab_size, bool) or vocab_size < 1:
        raise ValueError(f"`vocab_size` debe ser un entero ≥ 1; recibí {vocab_size!r}.")
    device = generator.device if generator is not None else tokens.device
    shape, original = tokens.shape, tokens.to(device)
    specials = torch.tensor(sorted({int(i) for i in special_ids}), dtype=original.dtype, device=device)
    candidates = ~torch.isin(original, specials)  # (B, T): ni relleno ni otros especiales
    chosen = (torch.rand(shape, generator=generator, device=device) < p) & candidates
    action = torch.rand(shape, generator=generator, device=device)
    random_tokens = torch.randint(vocab_size, shape, generator=generator, device=device, dtype=original.dtype)
    inputs = torch.where(chosen & (action < 0.8), torch.full_like(original, mask_id), original)
    inputs = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_tokens, inputs)
    labels = torch.where(chosen, original, torch.full_like(original, IGNORE_INDEX))
    return inputs.to(tokens.device), labels.to(tokens.device)


class EncoderOnlyLM(DecoderOnlyLM):
    """Modelo de lenguaje enmascarado (BERT): las mismas piezas que :class:`DecoderOnlyLM`,
    con la máscara de relleno ``(B, 1, 1, T)`` en lugar de la causal: cada posición ve toda la frase.
    """

    causal = False

    def mask(self, tokens: Tensor) -> Tensor:
        """Solo la máscara de relleno ``(B, 1, 1, T)``: en los dos sentidos."""
        return padding_mask(tokens, self.pad_id)


def encode_with_blanks(tokenizer, text: str, mask_id: int, blank: str = "___") -> list[int]:  # noqa: ANN001
    """Codifica ``text`` poniendo ``mask_id`` donde esté ``blank`` (``"El ___ duerme."``).

    Cada trozo entre huecos se codifica aparte con ``tokenizer`` (un :class:`BPETokenizer`), así
    que un hueco es un token: la palabra que falte, si es corriente, o un trozo de ella.
    """
    if blank not in text:
        raise ValueError(f"La frase {text!r} no tiene ningún hueco: escribe {blank!r} donde quieras un {MASK}.")
    ids: list[int] = []
    for n, piece in enumerate(text.split(blank)):
        if n:
            ids.append(mask_id)
        if piece.strip():
            ids.extend(tokenizer.encode(piece.strip()))
    return ids


@torch.no_grad()
def fill_mask(model: EncoderOnlyLM, ids: Sequence[int], mask_id: int, k: int = 5) -> list[list[tuple[int, float]]]:
    """Los ``k`` tokens más probables en cada ``mask_id`` de ``ids``: ``[[(token, prob), …], …]``."""
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        tokens = torch.tensor([list(ids)], device=device)  # (1, T)
        probs = torch.softmax(model(tokens)[0].float(), dim=-1)  # (T, V)
    finally:
        model.train(was_training)
    positions = [t for t, i in enumerate(ids) if i == mask_id]
    if not positions:
        raise ValueError(f"`ids` no tiene ningún {MASK} (mask_id={mask_id}).")
    result = []
    for t in positions:
        top = torch.topk(probs[t], k)
        result.append([(int(i), float(p)) for p, i in zip(top.values, top.indices, strict=True)])
    return result


__all__ = ["IGNORE_INDEX", "MASK", "EncoderOnlyLM", "encode_with_blanks", "fill_mask", "mask_tokens"]
