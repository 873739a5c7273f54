"""Errores frecuentes sembrados en 03_multicabeza: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "split_sin_transponer",
        "split_heads",
        """x.reshape(B, T, n_heads, d_k)  # (B, T, H, d_k): cada token, en H trozos
    return x.transpose(1, 2)  # (B, H, T, d_k)""",
        """x.reshape(B, n_heads, T, d_k)
    return x""",
        "directamente a (B, H, T, d_k) sin transponer",
    ),
    Mistake(
        "split_orden_dk_h",
        "split_heads",
        """x.reshape(B, T, n_heads, d_k)  # (B, T, H, d_k): cada token, en H trozos
    return x.transpose(1, 2)  # (B, H, T, d_k)""",
        """x.reshape(B, T, d_k, n_heads)
    return x.permute(0, 3, 1, 2)""",
        "partes d_model como (d_k, H)",
    ),
    Mistake(
        "merge_sin_transponer",
        "merge_heads",
        "    x = x.transpose(1, 2)  # (B, T, H, d_k)\n",
        "",
        "sin transponer antes",
    ),
    Mistake(
        "merge_view_sin_contiguous",
        "merge_heads",
        "return x.reshape(B, T, H * d_k)",
        "return x.view(B, T, H * d_k)",
        "contiguo en memoria",
    ),
    Mistake(
        "sin_W_o",
        "MultiHeadAttention",
        "out = self.W_o(merge_heads(heads))",
        "out = merge_heads(heads)",
        "no aplicas W_o",
    ),
    Mistake(
        "escala_d_model",
        "MultiHeadAttention",
        "_, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T_q, T_k)",
        """scores = q @ k.transpose(-2, -1) / math.sqrt(self.n_heads * self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, H, T_q, T_k)""",
        "√d_model en vez de entre √d_k",
    ),
    Mistake(
        "sin_comprobar_divisible",
        "MultiHeadAttention",
        """        if d_model % n_heads != 0:
            raise ValueError(
                f"d_model={d_model} no es divisible entre n_heads={n_heads}: "
                "cada cabeza necesita d_k = d_model / n_heads entero."
            )
""",
        "",
        "debería lanzar ValueError",
    ),
]
