"""Seq2seq con atención: puntuaciones, vector de contexto y un traductor GRU (cuaderno 01).

En cada paso ``t`` el decodificador tiene un estado ``s_t`` (la *consulta*) y el
codificador ha dejado un estado ``h_j`` por palabra de la frase de origen (las *claves*
y los *valores*). La atención:

1. puntúa cada ``h_j`` frente a ``s_t``: producto escalar (Luong et al., 2015),
   ``score_j = s_t · h_j``, o aditiva (Bahdanau et al., 2015),
   ``score_j = vᵀ tanh(W_q s_t + W_k h_j)``;
2. convierte las puntuaciones en pesos con una softmax (las posiciones de relleno,
   con peso 0);
3. suma los valores ponderados: el vector de contexto ``c_t = Σ_j α_tj h_j``.

Formas, con letras fijas: ``B`` lote, ``T`` longitud de la frase de origen,
``D`` tamaño de consulta y claves, ``D_v`` tamaño de los valores, ``V`` vocabulario.
Las máscaras son booleanas ``(B, T)``: ``True`` = palabra real, ``False`` = relleno.

El modelo :class:`Seq2Seq` es un codificador GRU bidireccional y un decodificador GRU, con o
sin atención. Su entrenamiento y su evaluación con el corpus de :mod:`course_lib.grammar`
(:func:`train_seq2seq`, :func:`translate_sentences`, :func:`accuracy_by_length`) están en
:mod:`course_lib.seq2seq_training`; se pueden pedir también a este módulo
(``seq2seq.train_seq2seq``), que los carga solo cuando se usan: el modelo no depende del corpus.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from course_lib.tokens import EOS_ID, PAD_ID, SOS_ID

# --- Las piezas de la atención (los ejercicios del cuaderno 01) ------------------------------


def dot_scores(query: Tensor, keys: Tensor) -> Tensor:
    """Puntuaciones por producto escalar (Luong): ``scores[b, j] = query[b] · keys[b, j]``.

    Args:
        query: la consulta de cada ejemplo del lote ``(B, D)`` (el estado del decodificador).
        keys: las claves ``(B, T, D)`` (un estado del codificador por palabra).

    Returns:
        ``scores`` de forma ``(B, T)``. Sin escalar: dividir entre √D es cosa del
        Transformer (cuaderno 02).
    """
    _check_tensor("query", query, 2, "(B, D)")
    _check_tensor("keys", keys, 3, "(B, T, D)")
    if query.size(0) != keys.size(0) or query.size(-1) != keys.size(-1):
        raise ValueError(
            "`query` (B, D) y `keys` (B, T, D) deben tener el mismo B y el mismo D: "
            f"`query` tiene forma {tuple(query.shape)} y `keys` {tuple(keys.shape)}."
        )
    return torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1)  # (B, T, D) @ (B, D, 1) → (B, T)


def attention_context(scores: Tensor, values: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Pesos de atención y vector de contexto a partir de unas puntuaciones.

    Args:
        scores: puntuaciones ``(B, T)``.
        values: valores ``(B, T, D_v)`` (en seq2seq, los estados del codificador).
        mask: booleana ``(B, T)``; ``True`` = posición real, ``False`` = relleno (peso 0).

    Returns:
        ``(context, weights)``: ``context`` de forma ``(B, D_v)`` y ``weights`` de forma
        ``(B, T)``; cada fila de ``weights`` suma 1. Una fila sin ninguna posición real
        recibe pesos 0 (y contexto 0) en vez de NaN.
    """
    _check_tensor("scores", scores, 2, "(B, T)")
    _check_tensor("values", values, 3, "(B, T, D_v)")
    if values.shape[:2] != scores.shape:
        raise ValueError(
            "`values` debe tener forma (B, T, D_v) con los mismos B y T que `scores` (B, T): "
            f"`scores` tiene forma {tuple(scores.shape)} y `values` {tuple(values.shape)}."
        )
    if mask is not None:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            kind = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
            raise TypeError(f"`mask` debe ser un tensor booleano (True = posición real); recibí {kind}.")
        if mask.shape != scores.shape:
            raise ValueError(
                f"`mask` debe tener la forma de `scores` {tuple(scores.shape)} (B, T); tiene {tuple(mask.shape)}."
            )
        # Antes de la softmax: exp(-inf) = 0, así que el relleno no recibe peso.
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (B, T)
    if mask is not None:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)  # filas sin nada: 0, no NaN
    context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # (B, 1, T) @ (B, T, D_v) → (B, D_v)
    return context, weights


class AdditiveAttention(nn.Module):
    """Atención aditiva (Bahdanau): ``score_j = vᵀ tanh(W_q q + W_k k_j)``.

    Args:
        d_query: tamaño de la consulta (el estado del decodificador).
        d_key: tamaño de cada clave (un estado del codificador).
        d_hidden: tamaño de la capa oculta donde se suman consulta y clave.

    Attributes:
        W_q: ``nn.Linear(d_query, d_hidden)``.
        W_k: ``nn.Linear(d_key, d_hidden)``.
        v: ``nn.Linear(d_hidden, 1, bias=False)``; un sesgo aquí no cambiaría nada, porque
            la softmax no varía si se suma lo mismo a todas las puntuaciones.
    """

    def __init__(self, d_query: int, d_key: int, d_hidden: int) -> None:
        super().__init__()
        for name, value in (("d_query", d_query), ("d_key", d_key), ("d_hidden", d_hidden)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` debe ser un entero positivo; recibí {value!r}.")
        self.W_q = nn.Linear(d_query, d_hidden)
        self.W_k = nn.Linear(d_key, d_hidden)
        self.v = nn.Linear(d_hidden, 1, bias=False)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``query (B, d_query)``, ``keys (B, T, d_key)``, ``values (B, T, D_v)`` →
        ``(context (B, D_v), weights (B, T))``."""
        _check_tensor("query", query, 2, "(B, d_query)")
        _check_tensor("keys", keys, 3, "(B, T, d_key)")
        if query.size(-1) != self.W_q.in_features or keys.size(-1) != self.W_k.in_features:
            raise ValueError(
                f"Esta capa espera `query` (B, {self.W_q.in_features}) y `keys` (B, T, {self.W_k.in_features}); "
                f"recibí `query` {tuple(query.shape)} y `keys` {tuple(keys.shape)}."
            )
        hidden = torch.tanh(self.W_q(query).unsqueeze(1) + self.W_k(keys))  # (B, 1, H) + (B, T, H) → (B, T, H)
        scores = self.v(hidden).squeeze(-1)  # (B, T)
        return attention_context(scores, values, mask)


def _check_tensor(name: str, t: object, dims: int, shape: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"`{name}` debe ser un torch.Tensor; recibí {type(t).__name__}.")
    if t.dim() != dims:
        raise ValueError(f"`{name}` debe tener forma {shape} ({dims} dimensiones); tiene forma {tuple(t.shape)}.")


# --- El traductor: codificador y decodificador GRU ------------------------------------------


class Encoder(nn.Module):
    """*Embeddings* + GRU bidireccional: un estado por palabra y un resumen final.

    Args:
        vocab_size: tamaño ``V`` del vocabulario de origen.
        d_emb: tamaño de los *embeddings*.
        d_hidden: tamaño del estado de cada dirección; los estados miden ``2 * d_hidden``.
    """

    def __init__(self, vocab_size: int, d_emb: int, d_hidden: int, pad_id: int = PAD_ID) -> None:
        super().__init__()
        self.pad_id = pad_id
        self.d_out = 2 * d_hidden
        self.embedding = nn.Embedding(vocab_size, d_emb, padding_idx=pad_id)
        self.gru = nn.GRU(d_emb, d_hidden, batch_first=True, bidirectional=True)

    def forward(self, src: Tensor) -> tuple[Tensor, Tensor]:
        """``src (B, T)`` → ``(states (B, T, 2·d_hidden), final (B, 2·d_hidden))``.

        ``final`` une el último estado de cada dirección, calculado sin mirar el relleno:
        es el único vector que recibe un decodificador sin atención.
        """
        lengths = (src != self.pad_id).sum(dim=1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.embedding(src), lengths, batch_first=True, enforce_sorted=False)
        packed_states, last = self.gru(packed)  # `last`: (2, B, d_hidden), una fila por dirección
        states, _ = pad_packed_sequence(packed_states, batch_first=True, total_length=src.size(1))
        final = torch.cat([last[0], last[1]], dim=-1)  # (B, 2·d_hidden)
        return states, final


class Decoder(nn.Module):
    """Decodificador GRU con atención por producto escalar, o sin atención.

    En cada paso ``t`` (Luong et al., 2015): ``s_t = GRU(embedding(y_{t-1}), s_{t-1})``;
    con atención, ``c_t`` es la suma de los estados del codificador ponderada con
    ``attention_context(dot_scores(s_t, W_k h), h)``; sin atención, ``c_t`` es siempre
    el resumen final del codificador. La salida es ``W_o tanh(W_c [s_t; c_t])``.

    Args:
        vocab_size: tamaño ``V`` del vocabulario de destino.
        d_emb: tamaño de los *embeddings*.
        d_hidden: tamaño ``D`` del estado del decodificador.
        d_enc: tamaño de los estados del codificador.
        attention: si es ``False``, el decodificador solo ve el resumen final.
    """

    def __init__(
        self,
        vocab_size: int,
        d_emb: int,
        d_hidden: int,
        d_enc: int,
        attention: bool = True,
        pad_id: int = PAD_ID,
    ) -> None:
        super().__init__()
        self.attention = attention
        self.embedding = nn.Embedding(vocab_size, d_emb, padding_idx=pad_id)
        self.init_state = nn.Linear(d_enc, d_hidden)
        self.gru = nn.GRU(d_emb, d_hidden, batch_first=True)
        self.W_k = nn.Linear(d_enc, d_hidden, bias=False)  # claves = W_k h: del tamaño de la consulta
        self.W_c = nn.Linear(d_hidden + d_enc, d_hidden)
        self.W_o = nn.Linear(d_hidden, vocab_size)

    def start(self, enc_final: Tensor) -> Tensor:
        """Estado inicial del GRU ``(1, B, D)`` a partir del resumen del codificador."""
        return torch.tanh(self.init_state(enc_final)).unsqueeze(0)

    def forward(
        self, tgt_in: Tensor, enc_states: Tensor, enc_final: Tensor, src_mask: Tensor, state: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, Tensor]:
        """``tgt_in (B, T_tgt)`` → ``(logits (B, T_tgt, V), weights (B, T_tgt, T) o None, estado)``.

        Con ``state`` se continúa desde ese estado (para traducir paso a paso).
        """
        state = self.start(enc_final) if state is None else state
        outputs, state = self.gru(self.embedding(tgt_in), state)  # (B, T_tgt, D)
        if self.attention:
            # Lo mismo que attention_context(dot_scores(outputs[:, t], keys), enc_states, src_mask)
            # en cada paso t, pero para todos los pasos a la vez (mucho más rápido en CPU).
            keys = self.W_k(enc_states)  # (B, T, D)
            scores = outputs @ keys.transpose(1, 2)  # (B, T_tgt, D) @ (B, D, T) → (B, T_tgt, T)
            scores = scores.masked_fill(~src_mask.unsqueeze(1), float("-inf"))
            weights = torch.softmax(scores, dim=-1)  # (B, T_tgt, T)
            contexts = weights @ enc_states  # (B, T_tgt, T) @ (B, T, d_enc) → (B, T_tgt, d_enc)
        else:
            contexts = enc_final.unsqueeze(1).expand(-1, tgt_in.size(1), -1)  # el mismo vector en cada paso
            weights = None
        logits = self.W_o(torch.tanh(self.W_c(torch.cat([outputs, contexts], dim=-1))))  # (B, T_tgt, V)
        return logits, weights, state


class Seq2Seq(nn.Module):
    """Un traductor codificador–decodificador con GRU, con atención o sin ella.

    Args:
        src_vocab_size: tamaño del vocabulario de origen.
        tgt_vocab_size: tamaño del vocabulario de destino.
        d_emb: tamaño de los *embeddings*.
        d_hidden: tamaño de los estados (el codificador usa ``d_hidden // 2`` por dirección).
        attention: ``True`` para un decodificador con atención; ``False`` para uno que
            solo recibe el último estado del codificador (el cuello de botella).
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        d_emb: int = 64,
        d_hidden: int = 128,
        attention: bool = True,
        pad_id: int = PAD_ID,
    ) -> None:
        super().__init__()
        if not isinstance(d_hidden, int) or d_hidden < 2 or d_hidden % 2:
            raise ValueError(f"`d_hidden` debe ser un entero par y positivo; recibí {d_hidden!r}.")
        self.encoder = Encoder(src_vocab_size, d_emb, d_hidden // 2, pad_id)
        self.decoder = Decoder(tgt_vocab_size, d_emb, d_hidden, self.encoder.d_out, attention, pad_id)
        self.pad_id = pad_id

    def forward(self, src: Tensor, tgt_in: Tensor) -> tuple[Tensor, Tensor | None]:
        """*Teacher forcing*: ``src (B, T)``, ``tgt_in (B, T_tgt)`` →
        ``(logits (B, T_tgt, V), weights (B, T_tgt, T) o None)``."""
        enc_states, enc_final = self.encoder(src)
        logits, weights, _ = self.decoder(tgt_in, enc_states, enc_final, src != self.pad_id)
        return logits, weights

    @torch.no_grad()
    def translate(
        self, src: Tensor, max_len: int = 60, sos_id: int = SOS_ID, eos_id: int = EOS_ID
    ) -> tuple[Tensor, Tensor | None]:
        """Traducción voraz (*greedy*): en cada paso, la palabra más probable.

        Returns:
            ``(tokens (B, T_out), weights (B, T_out, T) o None)``; cada fila de ``tokens``
            acaba en ``eos_id`` (y relleno) o llega a ``max_len`` palabras.
        """
        src_mask = src != self.pad_id
        enc_states, enc_final = self.encoder(src)
        token = torch.full((src.size(0), 1), sos_id, dtype=torch.long, device=src.device)
        state = None
        tokens, weights = [], []
        done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            logits, step_weights, state = self.decoder(token, enc_states, enc_final, src_mask, state)
            token = logits.argmax(dim=-1)  # (B, 1)
            token = token.masked_fill(done.unsqueeze(1), self.pad_id)
            tokens.append(token)
            if step_weights is not None:
                weights.append(step_weights)
            done |= token.squeeze(1) == eos_id
            if done.all():
                break
        return torch.cat(tokens, dim=1), (torch.cat(weights, dim=1) if weights else None)


# Lo que se entrena y se evalúa con el corpus sintético vive en seq2seq_training; se reexporta
# aquí sin importarlo al cargar este módulo (PEP 562), para que ``seq2seq.train_seq2seq`` siga
# funcionando en el cuaderno 01.
_TRAINING = ("accuracy_by_length", "train_seq2seq", "translate_sentences")


def __getattr__(name: str):
    if name in _TRAINING:
        from course_lib import seq2seq_training

        return getattr(seq2seq_training, name)
    raise AttributeError(f"{__name__} no tiene el nombre {name!r}")


__all__ = [
    "AdditiveAttention",
    "Decoder",
    "Encoder",
    "Seq2Seq",
    "attention_context",
    "dot_scores",
]
