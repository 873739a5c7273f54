"""Lotes por longitud con un presupuesto de tokens (cuaderno 07).

Con lotes de tamaño fijo y frases al azar, una frase de 40 tokens junto a otras de 5
obliga a rellenar todas hasta 40: la mayor parte del cálculo se gasta en ``<pad>``. Aquí
cada lote reúne frases de longitud parecida y su tamaño no es un número de frases sino
de **tokens**: muchas frases cortas o pocas largas, siempre con ``B · T ≤ max_tokens``
(como los lotes de «unos 25 000 tokens» del artículo del Transformer, sección 5.1).
La memoria que ocupa un lote queda así acotada y casi todo el cálculo es útil.

Cómo se forman los lotes de una época:

1. se barajan los índices de los pares con una semilla que depende de ``(seed, epoch)``;
2. se ordenan, de forma estable, por longitud de destino y luego de origen: las frases
   de igual longitud quedan en un orden distinto cada época;
3. se recorren en ese orden y se cierra un lote cuando el siguiente par haría que
   ``B · T_max`` pasara de ``max_tokens`` (un par que por sí solo no cabe forma un lote de uno);
4. se baraja el orden de los lotes.

Como el orden del paso 2 solo depende de las longitudes, las formas de los lotes son las
mismas todas las épocas (``len(source)`` es exacto); cambian qué frases van juntas entre
las de la misma longitud y el orden en que llegan. Con ``shuffle=False`` no se baraja nada:
misma partición y mismo orden siempre (útil para validar).

Cada lote es un :class:`course_lib.tokens.Batch`: ``src`` son los índices de origen tal
como se dan (sin especiales), ``tgt_in`` = ``<sos> y₁ … y_n`` y ``tgt_out`` = ``y₁ … y_n <eos>``,
rellenados con ``pad_id``.

Uso típico:

```
source = BatchSource(tokenizer.encode_batch(english), tokenizer.encode_batch(spanish), max_tokens=4096)
for batch in source(epoch):        # Batch con src (B, T_src), tgt_in y tgt_out (B, T_tgt)
    ...
```
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence

from torch import Tensor

from course_lib.tokens import EOS_ID, PAD_ID, SOS_ID, Batch, pad_sequences


def _check_int(name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"`{name}` debe ser un entero mayor o igual que {low}; recibí {value!r}.")


def _as_sequences(name: str, sequences: object) -> list[list[int]]:
    """Lista de secuencias de índices (listas o tensores ``(T,)``) → lista de listas de enteros."""
    if isinstance(sequences, Tensor) or isinstance(sequences, (str, bytes)) or not isinstance(sequences, Sequence):
        raise TypeError(
            f"`{name}` debe ser una lista de secuencias de índices (una por frase); recibí {type(sequences).__name__}."
        )
    result = []
    for i, seq in enumerate(sequences):
        if isinstance(seq, Tensor):
            if seq.dim() != 1:
                raise ValueError(f"`{name}[{i}]` debe ser un tensor (T,); recibí forma {tuple(seq.shape)}.")
            seq = seq.tolist()
        elif isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
            raise TypeError(f"`{name}[{i}]` debe ser una lista de índices enteros; recibí {type(seq).__name__}.")
        result.append(list(seq))
    return result


class BatchSource:
    """Fuente de lotes agrupados por longitud: ``source(epoch)`` recorre una época.

    Args:
        src_ids: índices de origen, una lista por frase (sin especiales).
        tgt_ids: índices de destino, una lista por frase (sin especiales; aquí se añaden
            ``<sos>`` y ``<eos>``). Debe tener tantas frases como ``src_ids``.
        max_tokens: máximo de posiciones (relleno incluido) de cada lado de un lote:
            ``B · T_src ≤ max_tokens`` y ``B · T_tgt ≤ max_tokens``, con ``T_tgt = len(y) + 1``.
        shuffle: barajar frases de igual longitud y el orden de los lotes en cada época.
        seed: semilla; con ``(seed, epoch)`` fijos, los lotes son siempre los mismos.
        pad_id, sos_id, eos_id: índices especiales (los del curso por defecto; las máscaras
            de :class:`~course_lib.tokens.Batch` suponen ``pad_id`` = 0).
    """

    def __init__(
        self,
        src_ids: Sequence[Sequence[int]],
        tgt_ids: Sequence[Sequence[int]],
        max_tokens: int,
        shuffle: bool = True,
        seed: int = 0,
        pad_id: int = PAD_ID,
        sos_id: int = SOS_ID,
        eos_id: int = EOS_ID,
    ) -> None:
        self.src_ids = _as_sequences("src_ids", src_ids)
        self.tgt_ids = _as_sequences("tgt_ids", tgt_ids)
        if len(self.src_ids) != len(self.tgt_ids):
            raise ValueError(
                f"`src_ids` y `tgt_ids` deben tener el mismo número de frases; tienen {len(self.src_ids)} "
                f"y {len(self.tgt_ids)}."
            )
        if not self.src_ids:
            raise ValueError("`src_ids` está vacía: hace falta al menos un par para formar lotes.")
        for i, seq in enumerate(self.src_ids):
            if not seq:  # un origen vacío dejaría la atención sin ninguna posición a la que mirar
                raise ValueError(f"`src_ids[{i}]` está vacía: cada frase de origen necesita al menos un token.")
        _check_int("max_tokens", max_tokens, 1)
        _check_int("seed", seed, 0)
        for name, value in (("pad_id", pad_id), ("sos_id", sos_id), ("eos_id", eos_id)):
            _check_int(name, value, 0)
        self.max_tokens = max_tokens
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.pad_id, self.sos_id, self.eos_id = pad_id, sos_id, eos_id
        # Longitud de cada lado tal como entra en el modelo: el destino lleva <sos> o <eos> de más.
        self.src_lengths = [len(s) for s in self.src_ids]
        self.tgt_lengths = [len(t) + 1 for t in self.tgt_ids]
        self._n_batches = len(self._partition(list(range(len(self.src_ids)))))

    def __len__(self) -> int:
        """Número de lotes por época (el mismo en todas)."""
        return self._n_batches

    def __repr__(self) -> str:
        return f"BatchSource({len(self.src_ids)} pares, {len(self)} lotes de ≤ {self.max_tokens} tokens)"

    def _partition(self, order: list[int]) -> list[list[int]]:
        """Ordena ``order`` por longitud (estable) y lo corta en lotes de ``B · T_max ≤ max_tokens``."""
        order = sorted(order, key=lambda i: (self.tgt_lengths[i], self.src_lengths[i]))
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0
        for i in order:
            length = max(self.src_lengths[i], self.tgt_lengths[i])
            if current and (len(current) + 1) * max(longest, length) > self.max_tokens:
                batches.append(current)
                current, longest = [], 0
            current.append(i)
            longest = max(longest, length)
        batches.append(current)
        return batches

    def batch_indices(self, epoch: int = 0) -> list[list[int]]:
        """Los índices de los pares de cada lote de la época ``epoch``, en el orden en que se recorren."""
        _check_int("epoch", epoch, 0)
        order = list(range(len(self.src_ids)))
        # Semilla de texto: ``random`` la convierte con SHA-512, igual en todas las máquinas y procesos.
        rng = random.Random(f"{self.seed}:{epoch}")
        if self.shuffle:
            rng.shuffle(order)
        batches = self._partition(order)
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def make_batch(self, indices: Sequence[int]) -> Batch:
        """Los pares ``indices`` → :class:`Batch` con ``src (B, T_src)``, ``tgt_in`` y ``tgt_out (B, T_tgt)``."""
        if len(indices) == 0:
            raise ValueError("`indices` está vacía: un lote necesita al menos un par.")
        src = pad_sequences([self.src_ids[i] for i in indices], self.pad_id)
        tgt_in = pad_sequences([[self.sos_id, *self.tgt_ids[i]] for i in indices], self.pad_id)
        tgt_out = pad_sequences([[*self.tgt_ids[i], self.eos_id] for i in indices], self.pad_id)
        return Batch(src, tgt_in, tgt_out)

    def __call__(self, epoch: int = 0) -> Iterator[Batch]:
        """Los lotes de la época ``epoch``: cada par exactamente una vez."""
        for indices in self.batch_indices(epoch):
            yield self.make_batch(indices)


def padding_fraction(batches: Iterable[Batch], pad_id: int = PAD_ID) -> float:
    """Fracción de posiciones de relleno en unos lotes, contando ``src`` y ``tgt_out``.

    0 = ningún relleno; 0,5 = la mitad del cálculo se gasta en ``<pad>``. ``tgt_in`` no
    se cuenta aparte porque tiene exactamente el mismo relleno que ``tgt_out``.
    """
    padded = total = 0
    for i, batch in enumerate(batches):
        if not isinstance(batch, Batch):
            raise TypeError(f"`batches[{i}]` debe ser un lote `Batch`; recibí {type(batch).__name__}.")
        for tensor in (batch.src, batch.tgt_out):
            padded += int((tensor == pad_id).sum())
            total += tensor.numel()
    if total == 0:
        raise ValueError("`batches` está vacío: no hay posiciones que contar.")
    return padded / total


__all__ = ["BatchSource", "padding_fraction"]
