"""Errores frecuentes sembrados en 01_seq2seq_atencion: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "suma_sobre_T",
        "dot_scores",
        ".sum(dim=-1)",
        ".sum(dim=1)",
        "suma sobre la última dimensión (D)",
    ),
    Mistake(
        "puntuaciones_escaladas",
        "dot_scores",
        "    return scores\n",
        "    return scores / math.sqrt(query.size(-1))\n",
        "divides entre √D",
    ),
    Mistake(
        "softmax_lote",
        "attention_context",
        "torch.softmax(scores, dim=-1)",
        "torch.softmax(scores, dim=0)",
        "dimensión del lote (dim=0)",
    ),
    Mistake(
        "mascara_tras_softmax",
        "attention_context",
        """    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (B, T)
""",
        """    weights = torch.softmax(scores, dim=-1)  # (B, T)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
""",
        "DESPUÉS de la softmax",
    ),
    Mistake(
        "sin_tanh",
        "AdditiveAttention",
        "torch.tanh(self.W_q(query).unsqueeze(1) + self.W_k(keys))",
        "self.W_q(query).unsqueeze(1) + self.W_k(keys)",
        "falta la tanh",
    ),
]
