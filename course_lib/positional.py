"""Codificación posicional sinusoidal y embeddings de tokens escalados (cuaderno 04).

    PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
    PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))      (Vaswani et al., 2017, sección 3.5)

La autoatención no sabe en qué orden llegan los tokens: si se permutan las
entradas, las salidas se permutan igual. Para darle el orden se **suma** a cada
embedding una fila de esta tabla fija, que no tiene parámetros ni consulta a otros
tokens. Antes, los embeddings se multiplican por √d_model (sección 3.4 del artículo),
para que las dos cosas que se suman tengan un tamaño comparable.

Convenciones: ``B`` lote, ``T`` longitud, ``D`` = ``d_model``, ``V`` tamaño del
vocabulario. Las tablas se guardan con ``register_buffer(..., persistent=False)``:
viajan con el módulo a la GPU, no se entrenan y no ocupan sitio en los puntos de
control (se recalculan al construir el módulo).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def _check_positive_int(name: str, value: object) -> None:
    """Error en español si ``value`` no es un entero positivo."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` debe ser un entero positivo; recibí {value!r}.")


def sinusoidal_encoding(max_len: int, d_model: int) -> Tensor:
    """Tabla de codificación posicional sinusoidal del Transformer original.

    Las columnas pares (``2i``) llevan el seno y las impares (``2i + 1``) el coseno de
    ``pos / 10000^(2i / d_model)``: cada pareja de columnas gira a su propia frecuencia,
    desde una vuelta cada 2π posiciones hasta una cada 10000·2π.

    Si ``d_model`` es impar, la última columna (par) es un seno sin coseno que la
    acompañe: hay ``ceil(d_model / 2)`` columnas de seno y ``floor(d_model / 2)`` de
    coseno. Es la misma fórmula aplicada a cada columna, sin ningún caso especial.

    Args:
        max_len: número de posiciones (filas de la tabla), ``pos = 0, …, max_len - 1``.
        d_model: tamaño de cada vector (columnas de la tabla).

    Returns:
        Tensor ``float32`` de forma ``(max_len, d_model)`` con valores en ``[-1, 1]``.
    """
    _check_positive_int("max_len", max_len)
    _check_positive_int("d_model", d_model)
    # En float64 para que las posiciones altas (ángulos de miles de radianes) no pierdan precisión.
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)  # (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (ceil(D/2),): 0, 2, 4, …
    angles = pos / 10000 ** (two_i / d_model)  # (max_len, ceil(D/2))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])  # un coseno menos si D es impar
    return pe.to(torch.float32)


class PositionalEncoding(nn.Module):
    """Suma la codificación sinusoidal a los embeddings y aplica dropout (cuaderno 04).

    ``x (B, T, D)`` → ``dropout(x + pe[:T])`` con la misma forma. La tabla ``pe``, de
    forma ``(max_len, d_model)``, es un búfer no persistente: no es un parámetro (no se
    entrena) y no se guarda en ``state_dict``.

    Args:
        d_model: tamaño de cada vector, ``D``.
        max_len: la secuencia más larga que admite la capa.
        dropout: probabilidad de anular cada componente tras la suma (el artículo usa 0,1).
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.1) -> None:
        super().__init__()
        _check_positive_int("d_model", d_model)
        _check_positive_int("max_len", max_len)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"`dropout` debe ser un número en [0, 1); recibí {dropout!r}.")
        self.d_model = d_model
        self.max_len = max_len
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)  # (max_len, D)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """``x (..., T, D)`` → ``dropout(x + pe[offset : offset + T])``, de la misma forma.

        ``offset`` es la posición del primer vector de ``x``: 0 para una frase entera; ``t`` al
        generar token a token, cuando ``x`` es solo el token de la posición ``t``.
        """
        if not isinstance(x, Tensor) or x.dim() < 2 or x.size(-1) != self.d_model:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"`x` debe tener forma (B, T, d_model={self.d_model}); recibí {shape}.")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ValueError(f"`offset` debe ser un entero no negativo (una posición); recibí {offset!r}.")
        T = x.size(-2)
        if offset + T > self.max_len:
            where = f"T={T} posiciones" if offset == 0 else f"posiciones hasta la {offset + T - 1}"
            raise ValueError(
                f"La secuencia tiene {where}, pero la tabla solo llega a max_len={self.max_len}: "
                "crea la capa con un `max_len` mayor."
            )
        return self.dropout(x + self.pe[offset : offset + T])  # (..., T, D) + (T, D) → (..., T, D)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


class TokenEmbedding(nn.Module):
    """Embedding de tokens multiplicado por √d_model (cuaderno 04).

    ``tokens (B, T)`` de enteros → ``embedding(tokens) · √d_model``, de forma ``(B, T, D)``.

    Los pesos se inicializan con N(0, 1/d_model), como en el código de los autores
    (tensor2tensor): cada embedding tiene norma ≈ 1 y, tras multiplicar por √d_model,
    norma ≈ √d_model, comparable a la de una fila de la codificación posicional
    (√(d_model/2)). El artículo solo dice que se multiplica por √d_model (sección 3.4).

    Args:
        vocab_size: tamaño del vocabulario, ``V``.
        d_model: tamaño de cada vector, ``D``.
    """

    def __init__(self, vocab_size: int, d_model: int) -> None:
        super().__init__()
        _check_positive_int("vocab_size", vocab_size)
        _check_positive_int("d_model", d_model)
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, mean=0.0, std=d_model**-0.5)

    def forward(self, tokens: Tensor) -> Tensor:
        """``tokens (B, T)`` → ``(B, T, D)`` (cualquier forma de índices vale: añade una dimensión ``D``)."""
        if not isinstance(tokens, Tensor) or tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
            kind = tokens.dtype if isinstance(tokens, Tensor) else type(tokens).__name__
            raise TypeError(
                f"`tokens` debe ser un tensor de enteros (índices del vocabulario); recibí {kind}. "
                "Convierte con `tokens.long()`."
            )
        # Leer el mínimo y el máximo obliga a esperar a la GPU en cada llamada: se comprueba solo
        # en CPU, donde no cuesta y donde prueban los alumnos (en GPU, el índice fuera de rango
        # lo detecta PyTorch, con un mensaje menos claro).
        if tokens.device.type == "cpu" and tokens.numel():
            low, high = int(tokens.min()), int(tokens.max())
            if low < 0 or high >= self.vocab_size:
                raise ValueError(
                    f"`tokens` tiene índices entre {low} y {high}, pero deben estar "
                    f"en [0, vocab_size={self.vocab_size})."
                )
        return self.embedding(tokens) * math.sqrt(self.d_model)  # (B, T, D)

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, d_model={self.d_model}"
