"""Errores frecuentes sembrados en 07_traductor: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "suavizado_cuenta_relleno",
        "label_smoothing_loss",
        "return loss[real].sum() / real.sum()",
        "return loss.mean()",
        "parece que el relleno cuenta en la media",
    ),
    Mistake(
        "suavizado_sin_log_softmax",
        "label_smoothing_loss",
        "log_probs = torch.log_softmax(logits.reshape(-1, V), dim=-1)",
        "log_probs = logits.reshape(-1, V)",
        "parece que usas los logits como si fueran log-probabilidades",
    ),
    Mistake(
        "noam_sin_calentamiento",
        "noam_lr",
        "return scale * min(decay, rise)",
        "return scale * decay",
        "parece que falta el calentamiento",
    ),
    Mistake(
        "noam_sin_d_model",
        "noam_lr",
        "scale = d_model**-0.5",
        "scale = 1.0",
        "parece que falta el factor d_model^-0.5",
    ),
    Mistake(
        "voraz_no_para_en_eos",
        "greedy_decode",
        "            finished = finished | (next_token == eos_id)\n"
        "            if finished.all():\n"
        "                break\n",
        "",
        "parece que la generación no se detiene en <eos>",
    ),
    Mistake(
        "voraz_no_realimenta",
        "greedy_decode",
        "next_token = logits[:, -1].argmax(dim=-1)",
        "next_token = logits[:, 0].argmax(dim=-1)",
        "parece que el decodificador no recibe lo que va generando",
    ),
    Mistake(
        "haz_sin_penalizacion",
        "beam_search",
        "return score / ((5 + n) / 6) ** length_penalty",
        "return score",
        "parece que no aplicas la penalización por longitud",
    ),
    Mistake(
        "haz_no_para_en_eos",
        "beam_search",
        "                for score, tokens in candidates[:beam_size]:\n"
        "                    if tokens[-1] == eos_id:  # termina: sale del haz\n"
        "                        finished.append((final_score(score, step), tokens))\n"
        "                finished = sorted(finished, key=lambda f: f[0], reverse=True)[:beam_size]  # las k mejores\n"
        "                beams = [(tokens, score) for score, tokens in candidates "
        "if tokens[-1] != eos_id][:beam_size]\n",
        "                beams = [(tokens, score) for score, tokens in candidates[:beam_size]]\n",
        "parece que las hipótesis siguen creciendo después de <eos>",
    ),
]
