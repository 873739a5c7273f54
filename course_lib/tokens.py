"""Tokens especiales, el lote de entrenamiento y el relleno: lo que comparten todos los traductores.

El corpus sintético (:mod:`course_lib.grammar`, cuaderno 01), el tokenizador BPE
(:mod:`course_lib.tokenizer`, 07), los lotes por longitud (:mod:`course_lib.batching`), el
traductor con GRU (:mod:`course_lib.seq2seq`) y el Transformer importan de aquí lo que
significa ``<pad>``: ningún modelo necesita un corpus para saberlo.

Los cuatro primeros índices de todo vocabulario del curso son los especiales:
``<pad>`` = 0 (relleno), ``<sos>`` = 1 (inicio de frase), ``<eos>`` = 2 (fin de frase) y
``<unk>`` = 3 (desconocido). Las máscaras de :class:`Batch` suponen ``pad_id`` = 0.

Formas: ``B`` lote, ``T`` longitud (``T_src``, ``T_tgt`` en origen y destino).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

PAD, SOS, EOS, UNK = "<pad>", "<sos>", "<eos>", "<unk>"
SPECIALS = (PAD, SOS, EOS, UNK)
PAD_ID, SOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


def pad_sequences(sequences: Sequence[Sequence[int]], pad_id: int = PAD_ID) -> Tensor:
    """Listas de índices de longitudes distintas → tensor ``(B, T_max)`` rellenado con ``pad_id``.

    Crea el tensor de una sola vez (no fila a fila): una época de los datos reales tiene más de
    cien mil filas.
    """
    if len(sequences) == 0:
        raise ValueError("`sequences` está vacía: hace falta al menos una secuencia.")
    rows = [list(seq) for seq in sequences]
    longest = max(len(row) for row in rows)
    return torch.tensor([row + [pad_id] * (longest - len(row)) for row in rows], dtype=torch.long)


def strip_special(
    ids: Iterable[int], pad_id: int = PAD_ID, sos_id: int | None = SOS_ID, eos_id: int = EOS_ID
) -> list[int]:
    """Una secuencia de índices → los tokens de la frase: corta en el primer ``<eos>`` (excluido)
    y quita ``<pad>`` y ``<sos>`` (con ``sos_id=None``, ``<sos>`` se deja).

    Es la única forma del curso de quitar los especiales: la usan ``Vocab.decode``,
    ``BPETokenizer.decode`` y la decodificación (:func:`course_lib.decode.strip_special`).
    """
    kept = []
    for value in ids:
        if value == eos_id:
            break
        if value != pad_id and value != sos_id:
            kept.append(value)
    return kept


@dataclass(frozen=True)
class Batch:
    """Un lote para entrenar un traductor con *teacher forcing*.

    Attributes:
        src: índices de las frases de origen ``(B, T_src)``, sin especiales, rellenadas con 0.
        tgt_in: entrada del decodificador ``(B, T_tgt)``: ``<sos> y₁ … y_n`` (y relleno).
        tgt_out: lo que debe predecir ``(B, T_tgt)``: ``y₁ … y_n <eos>`` (y relleno).
    """

    src: Tensor
    tgt_in: Tensor
    tgt_out: Tensor

    @property
    def src_mask(self) -> Tensor:
        """Booleana ``(B, T_src)``: ``True`` en las palabras reales, ``False`` en el relleno."""
        return self.src != PAD_ID

    @property
    def tgt_mask(self) -> Tensor:
        """Booleana ``(B, T_tgt)``: ``True`` en las posiciones de ``tgt_out`` que cuentan."""
        return self.tgt_out != PAD_ID

    def to(self, device: torch.device | str) -> Batch:
        """El mismo lote en otro dispositivo."""
        return Batch(self.src.to(device), self.tgt_in.to(device), self.tgt_out.to(device))


__all__ = [
    "EOS",
    "EOS_ID",
    "PAD",
    "PAD_ID",
    "SOS",
    "SOS_ID",
    "SPECIALS",
    "UNK",
    "UNK_ID",
    "Batch",
    "pad_sequences",
    "strip_special",
]
