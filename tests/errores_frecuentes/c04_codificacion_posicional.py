"""Errores frecuentes sembrados en 04_codificacion_posicional: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "seno_coseno_intercambiados",
        "sinusoidal_encoding",
        """    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])""",
        """    pe[:, 0::2] = torch.cos(angles)
    pe[:, 1::2] = torch.sin(angles[:, : d_model // 2])""",
        "intercambiaste seno y coseno",
    ),
    Mistake(
        "exponente_i",
        "sinusoidal_encoding",
        "angles = pos / 10000 ** (two_i / d_model)",
        "angles = pos / 10000 ** (two_i / 2 / d_model)",
        "el exponente es i/d_model",
    ),
    Mistake(
        "multiplica_posicion",
        "sinusoidal_encoding",
        "angles = pos / 10000 ** (two_i / d_model)",
        "angles = pos * 10000 ** (two_i / d_model)",
        "multiplicas la posición por 10000^(2i/d_model)",
    ),
    Mistake(
        "sin_sumar",
        "PositionalEncoding",
        "return self.dropout(x + self.pe[:T])",
        "return self.dropout(x)",
        "no sumas la codificación posicional",
    ),
    Mistake(
        "sin_recortar",
        "PositionalEncoding",
        "return self.dropout(x + self.pe[:T])",
        "return self.dropout(x + self.pe)",
        "suma solo las T primeras filas de la tabla",
    ),
    Mistake(
        "sin_bufer",
        "PositionalEncoding",
        'self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)',
        "self.pe = sinusoidal_encoding(max_len, d_model)",
        "register_buffer",
    ),
    Mistake(
        "sin_comprobar_longitud",
        "PositionalEncoding",
        """        if T > self.pe.size(0):
            raise ValueError(""",
        """        if False:
            raise ValueError(""",
        "comprueba al principio de forward si T > max_len",
    ),
    Mistake(
        "divide_raiz",
        "TokenEmbedding",
        "return self.embedding(tokens) * math.sqrt(self.d_model)",
        "return self.embedding(tokens) / math.sqrt(self.d_model)",
        "divides entre √d_model",
    ),
    Mistake(
        "multiplica_d_model",
        "TokenEmbedding",
        "return self.embedding(tokens) * math.sqrt(self.d_model)",
        "return self.embedding(tokens) * self.d_model",
        "por d_model en vez de por √d_model",
    ),
]
