"""La caché de claves y valores para generar token a token con el Transformer (cuadernos 06 y 07).

Al generar, el prefijo crece un token por paso. Como la autoatención del decodificador es
causal, lo que cada capa calcula en la posición ``j`` solo depende de las posiciones ``≤ j``:
las claves y los valores de los tokens anteriores no cambian al añadir uno nuevo, y los de la
atención cruzada (la frase de origen) no cambian nunca. Este módulo solo **guarda** esos
tensores y los reordena; los calculan las propias capas, con los mismos métodos que usan en su
``forward`` (:meth:`course_lib.multihead.MultiHeadAttention.keys_values` y
:meth:`~course_lib.multihead.MultiHeadAttention.attend`), desde
:meth:`course_lib.transformer.DecoderLayer.step` y :meth:`course_lib.transformer.Transformer.decode_step`.

Formas: ``N`` filas (frases, o frases × haz), ``H`` cabezas, ``d_k = D / H``, ``t`` tokens de
destino ya procesados y ``T_src`` la longitud del origen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class LayerCache:
    """Claves y valores guardados de una capa del decodificador, ya partidos en cabezas."""

    self_k: Tensor  # (N, H, t, d_k): W_k de la autoatención en cada posición ya vista; crece un paso cada vez
    self_v: Tensor  # (N, H, t, d_k)
    cross_k: Tensor  # (N, H, T_src, d_k): W_k de la atención cruzada sobre ``memory``; no cambia
    cross_v: Tensor  # (N, H, T_src, d_k)

    @classmethod
    def empty(cls, cross_k: Tensor, cross_v: Tensor) -> LayerCache:
        """Una caché sin tokens de destino (``t = 0``) con las claves y los valores cruzados ``(N, H, T_src, d_k)``."""
        N, H, _, d_k = cross_k.shape
        nothing = cross_k.new_empty(N, H, 0, d_k)  # (N, H, 0, d_k)
        return cls(self_k=nothing, self_v=nothing, cross_k=cross_k, cross_v=cross_v)

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Guarda clave y valor de la posición nueva ``(N, H, 1, d_k)``; devuelve todos: ``(N, H, t + 1, d_k)``."""
        self.self_k = torch.cat([self.self_k, k], dim=2)  # (N, H, t + 1, d_k)
        self.self_v = torch.cat([self.self_v, v], dim=2)
        return self.self_k, self.self_v

    def select(self, rows: Tensor, cross: bool = True) -> None:
        """Se queda con las filas ``rows (N',)``, en ese orden; con ``cross=False`` no toca las cruzadas."""
        self.self_k = self.self_k.index_select(0, rows)  # (N', H, t, d_k)
        self.self_v = self.self_v.index_select(0, rows)
        if cross:
            self.cross_k = self.cross_k.index_select(0, rows)  # (N', H, T_src, d_k)
            self.cross_v = self.cross_v.index_select(0, rows)


@dataclass
class DecoderCache:
    """Lo que :meth:`course_lib.transformer.Transformer.decode_step` necesita recordar entre un paso y el siguiente.

    La crea :meth:`course_lib.transformer.Transformer.start_decoding`. ``group`` es cuántas
    filas seguidas comparten la misma frase de origen (``beam_size`` en la búsqueda en haz: las
    filas ``b·k … b·k + k − 1`` son las hipótesis de la frase ``b``); así :meth:`reorder` sabe
    cuándo no hace falta mover las claves y los valores de la atención cruzada.
    """

    layers: list[LayerCache]  # una por capa del decodificador
    src_mask: Tensor | None  # (N, 1, 1, T_src) o difundible; ``None`` = todo el origen visible
    length: int = 0  # t: tokens ya procesados = posición del siguiente
    group: int = 1

    @classmethod
    def start(cls, layers: list[LayerCache], src_mask: Tensor | None, group: int = 1) -> DecoderCache:
        """La caché de ``B`` frases, cada una repetida ``group`` veces seguidas (fila ``b·k + i``): ``N = B·k``."""
        if group > 1:
            rows = torch.arange(layers[0].cross_k.size(0), device=layers[0].cross_k.device)  # (B,)
            rows = rows.repeat_interleave(group)  # (B·k,): 0, 0, …, 1, 1, …
            for cache in layers:
                cache.select(rows)
            if src_mask is not None and src_mask.size(0) > 1:
                src_mask = src_mask.index_select(0, rows.to(src_mask.device))  # (B·k, 1, 1, T_src)
        return cls(layers=layers, src_mask=src_mask, group=group)

    @property
    def rows(self) -> int:
        """``N``, el número de filas (hipótesis) que se decodifican a la vez."""
        return self.layers[0].cross_k.size(0)

    def reorder(self, rows: Tensor) -> None:
        """Reordena las hipótesis: la fila ``i`` pasa a continuar la que estaba en la fila ``rows[i]``.

        Es lo que hace la búsqueda en haz al quedarse con las mejores candidatas (una hipótesis
        puede quedar duplicada y otra desaparecer). ``rows`` es un tensor de enteros ``(N,)``.
        Si cada fila viene de otra de su mismo grupo (la misma frase de origen), las claves y los
        valores cruzados ya son los correctos y solo se mueven los de la autoatención.
        """
        if rows.dim() != 1 or rows.numel() != self.rows:
            raise ValueError(f"`rows` debe tener forma ({self.rows},); recibí {tuple(rows.shape)}.")
        rows = rows.to(self.layers[0].self_k.device)
        here = torch.arange(self.rows, device=rows.device)  # (N,)
        same_source = bool((torch.div(rows, self.group, rounding_mode="floor") == here // self.group).all())
        for cache in self.layers:
            cache.select(rows, cross=not same_source)
        if not same_source and self.src_mask is not None and self.src_mask.size(0) == self.rows:
            self.src_mask = self.src_mask.index_select(0, rows)
