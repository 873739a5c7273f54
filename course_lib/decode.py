"""Decodificación: búsqueda voraz y búsqueda en haz, por lotes (cuaderno 07).

Un traductor entrenado da, en cada paso, una distribución sobre el siguiente token. Para
obtener una frase hay que elegir tokens uno a uno:

- **voraz** (:func:`greedy_decode`): en cada paso, el más probable. Rápida, pero una
  elección temprana mala no se puede deshacer.
- **en haz** (:func:`beam_search`): se conservan las ``k`` hipótesis parciales de mayor
  probabilidad; al terminar gana la de mejor puntuación, con una penalización de longitud
  para no favorecer las frases cortas (cada token multiplica por una probabilidad < 1).

Interfaz que se pide al modelo (la cumple :class:`course_lib.transformer.Transformer`):
``model.pad_id``, ``model.encode(src, src_mask) → memory`` y
``model.decode(tgt, memory, src_mask, tgt_mask) → logits (B, T, V)``.

Formato de salida de las dos funciones: tensor ``(B, L)`` de enteros con ``L ≤ max_len + 1``;
cada fila empieza por ``sos_id``, incluye su primer ``eos_id`` (si llegó a generarlo) y se
rellena después con ``model.pad_id``.

**Velocidad.** La forma directa de generar vuelve a pasar todo el prefijo por el decodificador
en cada paso y proyecta todas sus posiciones al vocabulario, aunque solo se use la última. Con
un :class:`course_lib.transformer.Transformer` las dos funciones usan en cambio la
decodificación incremental (:meth:`~course_lib.transformer.Transformer.decode_step`): cada paso
procesa solo el token nuevo y reutiliza las claves y los valores guardados de los anteriores.
Los tokens elegidos son los mismos (las log-probabilidades coinciden salvo el redondeo, ~1e-6).
Con ``use_cache=False`` se vuelve a pasar el prefijo entero, pero solo la última posición se
proyecta al vocabulario. Solo se usan estos atajos si el modelo lo declara
(:meth:`~course_lib.transformer.Transformer.can_decode_incrementally`); cualquier otro modelo con
``encode`` y ``decode`` usa la forma directa.
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

from course_lib.masks import causal_mask, padding_mask
from course_lib.tokens import strip_special as _strip_row


def _check_args(model: nn.Module, src: Tensor, max_len: int, sos_id: int, eos_id: int) -> None:
    """Errores claros, en español, para argumentos mal formados."""
    for attr in ("encode", "decode"):
        if not callable(getattr(model, attr, None)):
            raise TypeError(f"`model` debe tener un método `{attr}` (como course_lib.Transformer).")
    if not isinstance(src, Tensor) or src.dim() != 2 or src.dtype.is_floating_point or src.dtype == torch.bool:
        shape = tuple(src.shape) if isinstance(src, Tensor) else type(src).__name__
        raise ValueError(f"`src` debe ser un tensor de enteros (B, T_src); recibí {shape}.")
    for name, value in (("max_len", max_len), ("sos_id", sos_id), ("eos_id", eos_id)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"`{name}` debe ser un entero no negativo; recibí {value!r}.")
    if max_len < 1:
        raise ValueError(f"`max_len` debe ser al menos 1 (tokens a generar); recibí {max_len}.")


class _NextToken:
    """Log-probabilidades del siguiente token de cada hipótesis, con el camino más rápido que admita el modelo.

    ``memory (B, T_src, D)`` y ``src_mask (B, 1, 1, T_src)`` son los de cada frase; con
    ``group = k`` cada frase tiene ``k`` hipótesis seguidas (fila ``b·k + i``), ``N = B·k`` filas.
    Tres caminos, que dan los mismos tokens:

    - ``"cache"``: :meth:`Transformer.decode_step`, solo el token nuevo en cada paso;
    - ``"last"``: :meth:`Transformer.decode` con ``last_only=True``, el prefijo entero pero solo
      la última posición proyectada al vocabulario (``use_cache=False``);
    - ``"full"``: ``model.decode`` tal cual, para cualquier modelo con esa interfaz.
    """

    def __init__(self, model: nn.Module, memory: Tensor, src_mask: Tensor, group: int, use_cache: bool) -> None:
        self.model = model
        can = getattr(model, "can_decode_incrementally", None)  # lo declara course_lib.transformer.Transformer
        fast = callable(can) and bool(can())
        self.path = ("cache" if use_cache else "last") if fast else "full"
        if self.path == "cache":
            self.cache = model.start_decoding(memory, src_mask, group=group)
        elif group > 1:
            memory = memory.repeat_interleave(group, dim=0)  # (B·k, T_src, D)
            src_mask = src_mask.repeat_interleave(group, dim=0)  # (B·k, 1, 1, T_src)
        self.memory, self.src_mask = memory, src_mask

    def __call__(self, ys: Tensor) -> Tensor:
        """Prefijos ``ys (N, t)`` → log-probabilidades del token ``t + 1``, ``(N, V)``."""
        if self.path == "cache":
            if self.cache.length != ys.size(1) - 1:  # la caché ya tiene todos los tokens menos el último
                raise RuntimeError(f"La caché tiene {self.cache.length} tokens y el prefijo {ys.size(1)}.")
            logits = self.model.decode_step(ys[:, -1], self.cache)  # (N, V)
        else:
            causal = causal_mask(ys.size(1)).to(ys.device)  # (1, 1, t, t)
            if self.path == "last":
                logits = self.model.decode(ys, self.memory, self.src_mask, causal, last_only=True)[:, -1]  # (N, V)
            else:
                logits = self.model.decode(ys, self.memory, self.src_mask, causal)[:, -1]  # (N, t, V) → (N, V)
        return torch.log_softmax(logits.float(), dim=-1)  # (N, V)

    def reorder(self, rows: Tensor) -> None:
        """La hipótesis ``i`` pasa a ser la que estaba en la fila ``rows[i]`` (``(N,)``); solo importa con caché."""
        if self.path == "cache":
            self.cache.reorder(rows)


@torch.no_grad()
def greedy_decode(
    model: nn.Module, src: Tensor, max_len: int, sos_id: int, eos_id: int, *, use_cache: bool = True
) -> Tensor:
    """Búsqueda voraz por lotes: en cada paso, el token más probable.

    Args:
        model: traductor con ``pad_id``, ``encode`` y ``decode`` (véase el módulo).
        src: frases de origen ``(B, T_src)`` rellenadas con ``model.pad_id``.
        max_len: máximo de tokens generados (sin contar ``<sos>``).
        sos_id, eos_id: identificadores de inicio y fin de frase.
        use_cache: con un :class:`~course_lib.transformer.Transformer`, decodificación
            incremental (``True``) o el prefijo entero en cada paso (``False``); el resultado es
            el mismo.

    Returns:
        ``(B, L)`` con ``L ≤ max_len + 1``: ``<sos>``, los tokens elegidos hasta el primer
        ``<eos>`` incluido y relleno después.
    """
    _check_args(model, src, max_len, sos_id, eos_id)
    was_training = model.training
    model.eval()
    try:
        pad_id = getattr(model, "pad_id", 0)
        src_mask = padding_mask(src, pad_id)  # (B, 1, 1, T_src)
        memory = model.encode(src, src_mask)  # (B, T_src, D)
        next_log_probs = _NextToken(model, memory, src_mask, 1, use_cache)
        ys = torch.full((src.size(0), 1), sos_id, dtype=torch.long, device=src.device)  # (B, 1)
        finished = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)  # (B,)
        for _ in range(max_len):
            next_token = next_log_probs(ys).argmax(dim=-1)  # (B,)
            next_token = next_token.masked_fill(finished, pad_id)  # las frases acabadas solo rellenan
            ys = torch.cat([ys, next_token[:, None]], dim=1)  # (B, t + 1)
            finished |= next_token == eos_id
            if bool(finished.all()):
                break
        return ys
    finally:
        model.train(was_training)


def _length_penalty(length: Tensor, alpha: float) -> Tensor:
    """Penalización de longitud de GNMT (Wu et al., 2016): ``((5 + n) / 6) ** alpha``."""
    return ((5.0 + length.float()) / 6.0) ** alpha


@torch.no_grad()
def beam_search(
    model: nn.Module,
    src: Tensor,
    beam_size: int,
    max_len: int,
    sos_id: int,
    eos_id: int,
    length_penalty: float = 0.6,
    *,
    use_cache: bool = True,
) -> Tensor:
    """Búsqueda en haz por lotes, con penalización de longitud.

    Cada frase conserva ``beam_size`` hipótesis abiertas. Una candidata que termina en ``<eos>``
    se guarda si está entre las ``beam_size`` mejores del paso; su puntuación final es
    ``log P(y) / ((5 + n) / 6) ** length_penalty``, con ``n`` los tokens generados (``<eos>``
    incluido). La búsqueda de una frase acaba cuando tiene ``beam_size`` hipótesis terminadas
    y ninguna abierta las mejora a la longitud actual (o tras ``max_len`` pasos, y entonces
    compiten también las abiertas); gana la de mejor puntuación final. Con ``beam_size=1`` da
    exactamente lo mismo que :func:`greedy_decode`.

    Args:
        model, src, max_len, sos_id, eos_id: como en :func:`greedy_decode`.
        beam_size: hipótesis por frase, ``k ≥ 1``.
        length_penalty: exponente ``α`` (0 = sin penalización).
        use_cache: como en :func:`greedy_decode`; con caché, al reelegir las hipótesis del haz
            se reordenan también sus claves y valores guardados.

    Returns:
        ``(B, L)``: la mejor hipótesis de cada frase, en el formato de :func:`greedy_decode`.
    """
    _check_args(model, src, max_len, sos_id, eos_id)
    if not isinstance(beam_size, numbers.Integral) or isinstance(beam_size, bool) or beam_size < 1:
        raise ValueError(f"`beam_size` debe ser un entero ≥ 1; recibí {beam_size!r}.")
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, numbers.Real) or length_penalty < 0:
        raise ValueError(f"`length_penalty` debe ser un número ≥ 0; recibí {length_penalty!r}.")
    was_training = model.training
    model.eval()
    try:
        return _beam_search(model, src, int(beam_size), max_len, sos_id, eos_id, float(length_penalty), use_cache)
    finally:
        model.train(was_training)


def _beam_search(
    model: nn.Module, src: Tensor, k: int, max_len: int, sos_id: int, eos_id: int, alpha: float, use_cache: bool
) -> Tensor:
    pad_id = getattr(model, "pad_id", 0)
    B, device = src.size(0), src.device
    src_mask = padding_mask(src, pad_id)  # (B, 1, 1, T_src)
    memory = model.encode(src, src_mask)  # (B, T_src, D)
    # Cada frase se repite k veces: la fila b*k + i es la hipótesis i de la frase b.
    next_log_probs = _NextToken(model, memory, src_mask, k, use_cache)
    ys = torch.full((B * k, 1), sos_id, dtype=torch.long, device=device)  # (B·k, 1)
    # Al principio solo la hipótesis 0 de cada frase está viva: así no se eligen k copias de lo mismo.
    scores = torch.full((B, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # (B, k): suma de log-probabilidades de cada hipótesis abierta
    finished: list[list[tuple[float, Tensor]]] = [[] for _ in range(B)]  # (puntuación final, tokens), mejor 1.º
    done = [False] * B

    for step in range(1, max_len + 1):
        log_probs = next_log_probs(ys)  # (B·k, V)
        V = log_probs.size(-1)
        candidates = (scores.reshape(B * k, 1) + log_probs).reshape(B, k * V)  # (B, k·V)
        # 2k candidatos, ordenados: aunque k terminen en <eos>, quedan k para seguir.
        top_scores, top_index = candidates.topk(min(2 * k, k * V), dim=-1)  # (B, 2k)
        origin, token = top_index // V, top_index % V  # hipótesis de la que viene y token añadido
        ends = token == eos_id  # (B, 2k)

        # Como en fairseq: una hipótesis que acaba en <eos> se guarda solo si está entre las k
        # mejores candidatas del paso. Con k = 1 eso es exactamente la búsqueda voraz.
        penalty = _length_penalty(torch.tensor(step), alpha).item()
        for b, j in torch.nonzero(ends[:, :k]).tolist():
            if not done[b] and top_scores[b, j] > float("-inf"):
                prefix = ys[b * k + int(origin[b, j])]
                finished[b].append((float(top_scores[b, j]) / penalty, torch.cat([prefix, token[b, j].reshape(1)])))
                finished[b] = sorted(finished[b], key=lambda option: -option[0])[:k]

        # Las k mejores que siguen abiertas forman el nuevo haz.
        keep_scores, keep = top_scores.masked_fill(ends, float("-inf")).topk(k, dim=-1)  # (B, k)
        rows = (torch.arange(B, device=device)[:, None] * k + origin.gather(1, keep)).reshape(-1)  # (B·k,)
        ys = torch.cat([ys[rows], token.gather(1, keep).reshape(-1, 1)], dim=1)  # (B·k, step + 1)
        next_log_probs.reorder(rows)  # las claves y los valores guardados siguen a su hipótesis
        scores = keep_scores
        # Una frase termina cuando tiene k hipótesis acabadas y la mejor abierta, con la
        # penalización de ahora, ya no supera a la peor de ellas (el mismo criterio que
        # Hugging Face Transformers con early_stopping=False).
        best_open = (scores.max(dim=-1).values / penalty).tolist()
        for b in range(B):
            done[b] = done[b] or (len(finished[b]) >= k and best_open[b] <= finished[b][-1][0])
        if all(done):
            break

    best = []
    for b in range(B):
        options = list(finished[b])
        if not done[b]:  # se agotó max_len: también cuentan las hipótesis abiertas (sin <eos>)
            n = ys.size(1) - 1
            penalty = _length_penalty(torch.tensor(n), alpha).item()
            options += [
                (float(scores[b, i]) / penalty, ys[b * k + i]) for i in range(k) if scores[b, i] > float("-inf")
            ]
        best.append(max(options, key=lambda option: option[0])[1])
    out = torch.full((B, max(len(t) for t in best)), pad_id, dtype=torch.long, device=device)
    for b, tokens in enumerate(best):
        out[b, : len(tokens)] = tokens
    return out


def strip_special(ids: Tensor, eos_id: int, pad_id: int = 0, sos_id: int | None = None) -> list[list[int]]:
    """Filas de ``ids (B, L)`` → listas de tokens sin ``<sos>`` inicial, cortadas en el primer ``<eos>``
    (excluido) y sin relleno (:func:`course_lib.tokens.strip_special` fila a fila)."""
    return [_strip_row(row, pad_id, sos_id, eos_id) for row in ids.tolist()]
