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

**Sin esperas a la GPU.** Leer un valor de un tensor desde Python (``bool(t)``, ``int(t)``,
``float(t)``, ``.item()``, ``.tolist()``, un ``if`` sobre un tensor) obliga a esperar a que la GPU
acabe todo lo pendiente: mientras tanto no se le encarga el paso siguiente. Por eso los bucles de
este módulo no leen nada del dispositivo en cada paso: la contabilidad de la búsqueda en haz (las
hipótesis terminadas y la elección final) son operaciones con tensores, y solo cada
:data:`SYNC_EVERY` pasos se mira si todas las frases han terminado; se lee una vez más al final,
para saber la longitud de la salida. Los tokens son los mismos que comprobando en cada paso: los
pasos de más solo añaden relleno, que se recorta. En la CPU leer un tensor no cuesta nada y sí
cada paso de más, así que allí se comprueba en cada paso.
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

from course_lib.masks import causal_mask, padding_mask
from course_lib.tokens import strip_special as _strip_row

SYNC_EVERY = 8
"""Pasos entre dos comprobaciones de «¿han terminado todas las frases?» fuera de la CPU.

Cada comprobación hace esperar a la GPU; comprobar poco cuesta a lo sumo ``SYNC_EVERY − 1`` pasos
de más cuando todas las frases ya han terminado (los tokens no cambian)."""


def _check_every(device: torch.device) -> int:
    """Cada cuántos pasos se mira si se puede parar: en cada uno en la CPU, donde leer un tensor es
    gratis; cada :data:`SYNC_EVERY` en un acelerador."""
    return 1 if device.type == "cpu" else SYNC_EVERY


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

    ``max_len`` es la longitud máxima de los prefijos (``t ≤ max_len``).
    """

    def __init__(
        self, model: nn.Module, memory: Tensor, src_mask: Tensor, group: int, use_cache: bool, max_len: int
    ) -> None:
        self.model = model
        can = getattr(model, "can_decode_incrementally", None)  # lo declara course_lib.transformer.Transformer
        fast = callable(can) and bool(can())
        self.path = ("cache" if use_cache else "last") if fast else "full"
        if self.path == "cache":
            self.cache = model.start_decoding(memory, src_mask, group=group)
        else:
            if group > 1:
                memory = memory.repeat_interleave(group, dim=0)  # (B·k, T_src, D)
                src_mask = src_mask.repeat_interleave(group, dim=0)  # (B·k, 1, 1, T_src)
            # La máscara causal se copia al dispositivo una sola vez: copiarla en cada paso desde la
            # memoria de la CPU haría esperar a la GPU cada vez.
            self.causal = causal_mask(max_len)  # (1, 1, max_len, max_len)
        self.memory, self.src_mask = memory, src_mask

    def __call__(self, ys: Tensor) -> Tensor:
        """Prefijos ``ys (N, t)`` → log-probabilidades del token ``t + 1``, ``(N, V)``."""
        if self.path == "cache":
            if self.cache.length != ys.size(1) - 1:  # la caché ya tiene todos los tokens menos el último
                raise RuntimeError(f"La caché tiene {self.cache.length} tokens y el prefijo {ys.size(1)}.")
            logits = self.model.decode_step(ys[:, -1], self.cache)  # (N, V)
        else:
            if self.causal.device != ys.device:
                self.causal = self.causal.to(ys.device)
            t = ys.size(1)
            causal = self.causal[:, :, :t, :t]  # (1, 1, t, t)
            if self.path == "last":
                logits = self.model.decode(ys, self.memory, self.src_mask, causal, last_only=True)[:, -1]  # (N, V)
            else:
                logits = self.model.decode(ys, self.memory, self.src_mask, causal)[:, -1]  # (N, t, V) → (N, V)
        return torch.log_softmax(logits.float(), dim=-1)  # (N, V)

    def reorder(self, rows: Tensor) -> None:
        """La hipótesis ``i`` pasa a ser la que estaba en la fila ``rows[i]`` (``(N,)``); solo importa con caché.

        En la búsqueda en haz cada hipótesis nueva viene de una de su misma frase, así que las claves
        y los valores de la atención cruzada no cambian: se mueven solo los de la autoatención.
        (:meth:`DecoderCache.reorder <course_lib.kv_cache.DecoderCache.reorder>` lo averiguaría
        leyendo ``rows``, lo que haría esperar a la GPU en cada paso.)
        """
        if self.path == "cache":
            for layer in self.cache.layers:
                layer.select(rows, cross=False)


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
        B, device = src.size(0), src.device
        check_every = _check_every(device)
        # 1) el origen se codifica una sola vez
        src_mask = padding_mask(src, pad_id)  # (B, 1, 1, T_src)
        memory = model.encode(src, src_mask)  # (B, T_src, D)
        next_log_probs = _NextToken(model, memory, src_mask, 1, use_cache, max_len)
        ys = torch.full((B, 1), sos_id, dtype=torch.long, device=device)  # (B, 1)
        finished = torch.zeros(B, dtype=torch.bool, device=device)  # (B,)
        # Tokens de cada fila con <sos> y su <eos>; max_len + 1 mientras no acabe.
        length = torch.full((B,), max_len + 1, dtype=torch.long, device=device)  # (B,)
        for step in range(1, max_len + 1):
            # 2) el token más probable; las frases acabadas solo rellenan
            next_token = next_log_probs(ys).argmax(dim=-1)  # (B,)
            next_token = next_token.masked_fill(finished, pad_id)
            ys = torch.cat([ys, next_token[:, None]], dim=1)  # (B, step + 1)
            # 3) cuentas en el dispositivo, sin leerlas desde Python
            ends = ~finished & (next_token == eos_id)  # (B,): acaban en este paso
            length = length.masked_fill(ends, step + 1)
            finished |= ends
            # 4) solo de vez en cuando se espera al dispositivo para ver si se puede parar
            if step % check_every == 0 and bool(finished.all()):
                break
        # 5) una sola lectura: las columnas tras el último <eos> son de relleno y sobran
        return ys[:, : int(length.max())].contiguous()  # (B, L)
    finally:
        model.train(was_training)


# El ``α`` de GNMT (Wu et al., 2016, §7) que usan por defecto ``beam_search`` y el traductor.
DEFAULT_LENGTH_PENALTY = 0.6


def _length_penalty(length: int, alpha: float) -> float:
    """Penalización de longitud de GNMT (Wu et al., 2016): ``((5 + n) / 6) ** alpha``.

    Un número de Python, no un tensor: solo depende del paso, y así no hay nada que leer del dispositivo.
    """
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def beam_search(
    model: nn.Module,
    src: Tensor,
    beam_size: int,
    max_len: int,
    sos_id: int,
    eos_id: int,
    length_penalty: float = DEFAULT_LENGTH_PENALTY,
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
    check_every = _check_every(device)
    src_mask = padding_mask(src, pad_id)  # (B, 1, 1, T_src)
    memory = model.encode(src, src_mask)  # (B, T_src, D)
    # Cada frase se repite k veces: la fila b·k + i es la hipótesis i de la frase b (N = B·k filas).
    next_log_probs = _NextToken(model, memory, src_mask, k, use_cache, max_len)
    first_row = torch.arange(B, device=device) * k  # (B,): fila de la hipótesis 0 de cada frase
    ys = torch.full((B * k, 1), sos_id, dtype=torch.long, device=device)  # (N, 1)
    # Al principio solo la hipótesis 0 de cada frase está viva: así no se eligen k copias de lo mismo.
    scores = torch.full((B, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # (B, k): suma de log-probabilidades de cada hipótesis abierta
    # Las hipótesis terminadas, sin salir del dispositivo. Para decidir cuándo parar basta con las
    # puntuaciones finales de las k mejores; para la respuesta, con los tokens de la mejor.
    # Las puntuaciones finales van en float64, la precisión de un número de Python (salvo en el
    # dispositivo ``mps``, que no lo admite).
    final = torch.float32 if device.type == "mps" else torch.float64
    finished = torch.full((B, k), float("-inf"), dtype=final, device=device)  # (B, k), de mayor a menor
    best = torch.full((B, max_len + 1), pad_id, dtype=torch.long, device=device)  # (B, max_len + 1)
    best_length = torch.zeros(B, dtype=torch.long, device=device)  # (B,): tokens de la mejor, con <sos> y <eos>
    done = torch.zeros(B, dtype=torch.bool, device=device)  # (B,)

    for step in range(1, max_len + 1):
        # 1) las candidatas: cada hipótesis abierta seguida de cada token
        log_probs = next_log_probs(ys)  # (N, V)
        V = log_probs.size(-1)
        candidates = (scores.reshape(B * k, 1) + log_probs).reshape(B, k * V)  # (B, k·V)
        # 2k candidatas, ordenadas: aunque k terminen en <eos>, quedan k para seguir.
        top_scores, top_index = candidates.topk(min(2 * k, k * V), dim=-1)  # (B, 2k)
        origin, token = top_index // V, top_index % V  # hipótesis de la que viene y token añadido
        ends = token == eos_id  # (B, 2k)
        penalty = _length_penalty(step, alpha)

        # 2) Como en fairseq: una hipótesis que acaba en <eos> se guarda solo si está entre las k
        # mejores candidatas del paso (con k = 1 eso es exactamente la búsqueda voraz) y su frase
        # no ha terminado ya.
        keep_ended = ends[:, :k] & (top_scores[:, :k] > float("-inf")) & ~done[:, None]  # (B, k)
        ended = (top_scores[:, :k].to(final) / penalty).masked_fill(~keep_ended, float("-inf"))  # (B, k)
        ended_best, j = ended.max(dim=-1)  # (B,): ante un empate, la primera, como en una lista ordenada
        better = ended_best > finished[:, 0]  # (B,): supera a la mejor guardada
        finished = torch.cat([finished, ended], dim=1).topk(k, dim=-1).values  # (B, k): las k mejores
        prefix = ys[first_row + origin.gather(1, j[:, None])[:, 0]]  # (B, step): la hipótesis que acaba
        candidate = torch.cat([prefix, torch.full_like(prefix[:, :1], eos_id)], dim=1)  # (B, step + 1)
        best[:, : step + 1] = torch.where(better[:, None], candidate, best[:, : step + 1])
        best_length = best_length.masked_fill(better, step + 1)

        # 3) Las k mejores que siguen abiertas forman el nuevo haz.
        keep_scores, keep = top_scores.masked_fill(ends, float("-inf")).topk(k, dim=-1)  # (B, k)
        rows = (first_row[:, None] + origin.gather(1, keep)).reshape(-1)  # (N,)
        ys = torch.cat([ys[rows], token.gather(1, keep).reshape(-1, 1)], dim=1)  # (N, step + 1)
        next_log_probs.reorder(rows)  # las claves y los valores guardados siguen a su hipótesis
        scores = keep_scores

        # 4) Una frase termina cuando tiene k hipótesis acabadas y la mejor abierta, con la
        # penalización de ahora, ya no supera a la peor de ellas (el mismo criterio que
        # Hugging Face Transformers con early_stopping=False).
        best_open = (scores.max(dim=-1).values / penalty).to(final)  # (B,)
        done |= (finished[:, -1] > float("-inf")) & (best_open <= finished[:, -1])
        if step % check_every == 0 and bool(done.all()):  # la única espera al dispositivo del bucle
            break

    # 5) Si se agotó max_len sin terminar, también compiten las hipótesis abiertas (sin <eos>); ante
    # un empate gana la terminada, y entre abiertas la primera.
    n = ys.size(1) - 1  # pasos dados; max_len en las frases sin terminar
    open_best, i = (scores.to(final) / _length_penalty(n, alpha)).max(dim=-1)  # (B,)
    use_open = ~done & (open_best > finished[:, 0])  # (B,)
    open_tokens = nn.functional.pad(ys[first_row + i], (0, max_len - n), value=pad_id)  # (B, max_len + 1)
    best = torch.where(use_open[:, None], open_tokens, best)  # (B, max_len + 1)
    best_length = best_length.masked_fill(use_open, n + 1)
    return best[:, : int(best_length.max())].contiguous()  # (B, L): la única lectura tras el bucle


def strip_special(ids: Tensor, eos_id: int, pad_id: int = 0, sos_id: int | None = None) -> list[list[int]]:
    """Filas de ``ids (B, L)`` → listas de tokens sin ``<sos>`` inicial, cortadas en el primer ``<eos>``
    (excluido) y sin relleno (:func:`course_lib.tokens.strip_special` fila a fila)."""
    return [_strip_row(row, pad_id, sos_id, eos_id) for row in ids.tolist()]
