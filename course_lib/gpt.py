"""Un modelo de lenguaje solo con decodificador, como GPT, hecho con los bloques del curso (cuaderno 08).

Una capa de decodificador sin atención cruzada es una capa de codificador con máscara causal:
:class:`DecoderOnlyLM` apila :class:`course_lib.transformer.EncoderLayer` (pre-LN) con la máscara
de :func:`course_lib.masks.decoder_mask` (causal y de relleno). Se entrena a predecir el token
siguiente (:func:`lm_loss`) y genera token a token (:func:`generate`), eligiendo cada uno con
:func:`sample_next_token` (voraz, temperatura, ``top_k``) o con :func:`top_p_logits` (núcleo).

Formas: ``B`` lote, ``T`` longitud, ``V`` vocabulario, ``D`` = ``d_model``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_lib.masks import decoder_mask
from course_lib.positional import PositionalEncoding, TokenEmbedding
from course_lib.transformer_layers import EncoderLayer


def _check_logits(logits: object, name: str = "logits", dims: int = 3) -> None:
    if not isinstance(logits, Tensor) or not logits.dtype.is_floating_point or logits.dim() != dims:
        shape = "(B, T, V)" if dims == 3 else "(B, V)"
        got = f"forma {tuple(logits.shape)}, {logits.dtype}" if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"`{name}` debe ser un tensor de números reales {shape}; recibí {got}.")


def _check_tokens(tokens: object, name: str = "tokens") -> None:
    if not isinstance(tokens, Tensor) or tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
        got = tokens.dtype if isinstance(tokens, Tensor) else type(tokens).__name__
        raise TypeError(f"`{name}` debe ser un tensor de enteros (índices del vocabulario); recibí {got}.")
    if tokens.dim() != 2:
        raise ValueError(f"`{name}` debe tener forma (B, T); recibí forma {tuple(tokens.shape)}.")


def lm_loss(logits: Tensor, tokens: Tensor, pad_id: int) -> Tensor:
    """Entropía cruzada del token siguiente, con el desplazamiento hecho aquí dentro.

    La posición ``t`` predice el token ``t + 1``: se comparan ``logits[:, :-1]`` con
    ``tokens[:, 1:]``. Las posiciones cuyo token a predecir es relleno no cuentan, y la media es
    sobre los tokens que sí cuentan (no sobre las filas).

    Args:
        logits: ``(B, T, V)``, la salida del modelo para ``tokens``.
        tokens: ``(B, T)``, la secuencia de entrada (la misma que recibió el modelo).
        pad_id: identificador del relleno.

    Returns:
        Escalar: la pérdida media por token predicho.
    """
    _check_logits(logits)
    _check_tokens(tokens)
    if logits.shape[:2] != tokens.shape:
        raise ValueError(
            f"`logits` {tuple(logits.shape)} y `tokens` {tuple(tokens.shape)} deben tener las mismas (B, T)."
        )
    if tokens.size(1) < 2:
        raise ValueError(f"Hacen falta al menos 2 tokens por fila para predecir el siguiente; T = {tokens.size(1)}.")
    predicted = logits[:, :-1]  # (B, T-1, V): la posición t…
    target = tokens[:, 1:]  # (B, T-1): …predice el token t + 1
    return F.cross_entropy(predicted.reshape(-1, predicted.size(-1)), target.reshape(-1), ignore_index=pad_id)


class DecoderOnlyLM(nn.Module):
    """Modelo de lenguaje solo con decodificador: ``tokens (B, T)`` → ``logits (B, T, V)``.

    Embedding de tokens (×√D) y codificación posicional, ``n_layers`` capas
    :class:`~course_lib.transformer.EncoderLayer` en pre-LN con la máscara causal y de relleno,
    una ``LayerNorm`` final (la que necesita pre-LN) y una proyección lineal al vocabulario.

    Args:
        vocab_size: tamaño del vocabulario, ``V``.
        d_model, n_heads, n_layers, d_ff, dropout: los del Transformer (cuaderno 06).
        max_len: la secuencia más larga que admite la codificación posicional.
        pad_id: identificador del relleno (con él se construye la máscara).
    """

    causal = True  # GPT: cada posición ve solo el pasado

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        n_heads: int = 4,
        n_layers: int = 2,
        d_ff: int = 512,
        dropout: float = 0.1,
        max_len: int = 128,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.vocab_size, self.d_model, self.pad_id, self.max_len = vocab_size, d_model, pad_id, max_len
        self.embed = TokenEmbedding(vocab_size, d_model)
        self.positional = PositionalEncoding(d_model, max_len, dropout)
        self.layers = nn.ModuleList(
            [EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first=True) for _ in range(n_layers)]
        )
        self.norm = nn.LayerNorm(d_model)
        self.generator = nn.Linear(d_model, vocab_size)

    def mask(self, tokens: Tensor) -> Tensor:
        """La máscara de atención: causal y de relleno ``(B, 1, T, T)``."""
        return decoder_mask(tokens, self.pad_id)

    def forward(self, tokens: Tensor, return_attention: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        """``tokens (B, T)`` → ``logits (B, T, V)``.

        Con ``return_attention=True`` devuelve también los pesos de cada capa, ``(B, H, T, T)``.
        """
        _check_tokens(tokens)
        mask = self.mask(tokens)  # (B, 1, T, T)
        x = self.positional(self.embed(tokens))  # (B, T, D)
        weights = []
        for layer in self.layers:
            if return_attention:
                x, w = layer(x, mask, return_attention=True)
                weights.append(w["self"])
            else:
                x = layer(x, mask)
        logits = self.generator(self.norm(x))  # (B, T, V)
        return (logits, weights) if return_attention else logits


def expected_parameter_count(vocab_size: int, d_model: int, n_layers: int, d_ff: int) -> int:
    """Parámetros de un :class:`DecoderOnlyLM` contados a mano.

    Embedding ``V·D``; por capa, atención ``4·(D² + D)``, red prealimentada ``2·D·d_ff + d_ff + D``
    y dos ``LayerNorm`` de ``2·D``; la ``LayerNorm`` final ``2·D``; la salida ``D·V + V``.
    El número de cabezas no cambia nada (cuaderno 03).
    """
    D = d_model
    layer = 4 * (D * D + D) + 2 * D * d_ff + d_ff + D + 2 * 2 * D
    return vocab_size * D + n_layers * layer + 2 * D + D * vocab_size + vocab_size


def _check_temperature(temperature: object) -> float:
    if (
        not isinstance(temperature, numbers.Real)
        or isinstance(temperature, bool)
        or not math.isfinite(temperature)
        or temperature < 0
    ):
        raise ValueError(f"`temperature` debe ser un número ≥ 0 (0 = voraz); recibí {temperature!r}.")
    return float(temperature)


def _check_top_k(top_k: object) -> int | None:
    if top_k is None:
        return None
    if not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool) or top_k < 1:
        raise ValueError(f"`top_k` debe ser un entero ≥ 1 o `None` (sin límite); recibí {top_k!r}.")
    return int(top_k)


def sample_next_token(
    logits: Tensor, temperature: float = 1.0, top_k: int | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """Elige el token siguiente de cada fila.

    - ``temperature == 0``: el más probable (búsqueda voraz), sin dividir entre 0.
    - Si no, divide los *logits* entre ``temperature`` (< 1 concentra, > 1 aplana), deja solo los
      ``top_k`` mayores (el resto a −∞; ``None`` = todos) y muestrea de la softmax con
      ``torch.multinomial(…, generator=generator)``.

    Args:
        logits: ``(B, V)``, las puntuaciones de la última posición.
        temperature: ``≥ 0``.
        top_k: cuántos candidatos conservar (``None`` = todos).
        generator: un ``torch.Generator`` con semilla, para repetir el muestreo.

    Returns:
        ``(B,)`` enteros: el token elegido en cada fila.
    """
    _check_logits(logits, dims=2)
    temperature, top_k = _check_temperature(temperature), _check_top_k(top_k)
    if temperature == 0:
        return logits.argmax(dim=-1)  # (B,)
    scaled = logits / temperature  # (B, V)
    if top_k is not None and top_k < scaled.size(-1):
        kth = torch.topk(scaled, top_k, dim=-1).values[:, -1:]  # (B, 1): el k-ésimo mayor
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    probs = torch.softmax(scaled.float(), dim=-1)  # (B, V)
    if generator is not None and generator.device != probs.device:  # p. ej. logits en la GPU y generador en la CPU
        return torch.multinomial(probs.to(generator.device), 1, generator=generator)[:, 0].to(logits.device)
    return torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]  # (B,)


def top_p_logits(logits: Tensor, top_p: float) -> Tensor:
    """Muestreo de núcleo (*top-p*): deja los tokens más probables cuya probabilidad suma ``top_p``.

    Ordena de mayor a menor probabilidad y conserva el menor grupo cuya suma alcanza ``top_p`` (el
    más probable siempre entra); el resto pasa a −∞. Se combina con :func:`sample_next_token`:
    ``sample_next_token(top_p_logits(logits, 0.9), temperature=1.0)``.

    Args:
        logits: ``(B, V)``.
        top_p: en ``(0, 1]``; 1 = sin recorte.

    Returns:
        ``(B, V)``: los mismos *logits*, con −∞ fuera del núcleo.
    """
    _check_logits(logits, dims=2)
    if not isinstance(top_p, numbers.Real) or isinstance(top_p, bool) or not 0 < top_p <= 1:
        raise ValueError(f"`top_p` debe ser un número en (0, 1]; recibí {top_p!r}.")
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (B, V)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    outside = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p  # lo de antes ya sumaba top_p
    sorted_logits = sorted_logits.masked_fill(outside, float("-inf"))
    return torch.empty_like(logits).scatter_(-1, order, sorted_logits)


@torch.no_grad()
def generate(
    model: nn.Module,
    prompt_ids: Sequence[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    eos_id: int | None = None,
    generator: torch.Generator | None = None,
) -> list[int]:
    """Continúa ``prompt_ids`` token a token con ``model`` (``(1, T) → (1, T, V)``).

    En cada paso pasa la secuencia entera por el modelo, toma los *logits* de la **última**
    posición, elige un token con :func:`sample_next_token` y lo añade. Para al llegar a
    ``eos_id`` (que se incluye) o tras ``max_new_tokens`` tokens nuevos.

    Returns:
        La secuencia completa: ``prompt_ids`` seguido de los tokens generados.
    """
    ids = [int(i) for i in prompt_ids]
    if not ids:
        raise ValueError("`prompt_ids` está vacío: hace falta al menos un token (p. ej. <sos>).")
    if not isinstance(max_new_tokens, numbers.Integral) or isinstance(max_new_tokens, bool) or max_new_tokens < 0:
        raise ValueError(f"`max_new_tokens` debe ser un entero ≥ 0; recibí {max_new_tokens!r}.")
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
    except StopIteration:  # un modelo sin parámetros (p. ej. uno de prueba)
        device = torch.device("cpu")
    try:
        for _ in range(max_new_tokens):
            logits = model(torch.tensor([ids], device=device))  # (1, T, V)
            next_id = int(sample_next_token(logits[:, -1].float(), temperature, top_k, generator))
            ids.append(next_id)
            if next_id == eos_id:
                break
    finally:
        model.train(was_training)
    return ids


__all__ = [
    "DecoderOnlyLM",
    "expected_parameter_count",
    "generate",
    "lm_loss",
    "sample_next_token",
    "top_p_logits",
]
