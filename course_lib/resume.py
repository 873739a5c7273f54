"""Reanudar un entrenamiento del traductor solo en su propia carpeta (cuaderno 07 y ``--salida``).

:func:`course_lib.train.fit` reanuda desde ``ultimo.pt`` si la carpeta de salida ya lo tiene:
tras una desconexión de Colab basta con volver a ejecutar la celda. Pero una carpeta de otro
entrenamiento (la otra dirección, otro perfil u otro tamaño de modelo) reanudaría el modelo
equivocado. Cada entrenamiento apunta qué es en ``entrenamiento.json``, junto a ``ultimo.pt``,
y :func:`check_resume` se niega a empezar si no coincide.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from course_lib.checkpoints import CHECKPOINT_NAME
from course_lib.distributed import rank_and_world
from course_lib.translator import TranslatorError, read_checkpoint

TRAINING_INFO_NAME = "entrenamiento.json"
# Lo que debe coincidir para reanudar: con otro valor, los pesos guardados no encajan en el modelo.
_ARCHITECTURE = ("src_vocab", "tgt_vocab", "d_model", "n_heads", "n_layers", "d_ff", "max_len", "share_embeddings")


def check_resume(checkpoint_dir: str | Path | None, direction: str, profile: str, config: dict[str, Any]) -> None:
    """Antes de entrenar: se niega a reanudar en ``checkpoint_dir`` un entrenamiento de otra dirección o perfil.

    ``direction`` (``"en-es"``…), ``profile`` (su nombre) y ``config`` (el ``TransformerConfig``
    como diccionario) son los del entrenamiento que va a empezar.

    Cada entrenamiento apunta su dirección, su perfil y la configuración de su modelo en
    ``checkpoint_dir/entrenamiento.json``. Si la carpeta ya tiene un ``ultimo.pt`` de otro
    entrenamiento, :func:`course_lib.train.fit` reanudaría el modelo equivocado (o fallaría
    con un error de PyTorch): se para antes de empezar. En una carpeta sin ese archivo (de
    una versión anterior del curso) se compara con lo que guarda el propio ``ultimo.pt``.

    Raises:
        TranslatorError: si ``checkpoint_dir`` es un archivo, si su ``ultimo.pt`` está dañado o
            si es de otro entrenamiento.
    """
    if checkpoint_dir is None:
        return
    folder = Path(checkpoint_dir)
    if folder.exists() and not folder.is_dir():
        raise TranslatorError(f"La carpeta de salida {folder} es un archivo, no una carpeta: elige otra carpeta.")
    wanted = {"direction": direction, "profile": profile, "config": config}
    checkpoint, info = folder / CHECKPOINT_NAME, folder / TRAINING_INFO_NAME
    start_over = f"usa otra carpeta de salida (--salida o `checkpoint_dir`) o borra {checkpoint} para empezar de cero."
    if checkpoint.exists():
        if not zipfile.is_zipfile(checkpoint):  # torch.save escribe un .zip: si no lo es, está cortado o no es suyo
            raise TranslatorError(f"El punto de control {checkpoint} está dañado y no se puede reanudar: {start_over}")
        try:
            recorded = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = None
        if not isinstance(recorded, dict):
            extra = read_checkpoint(checkpoint).get("extra") or {}
            recorded = {"direction": extra.get("direction"), "profile": None, "config": extra.get("config")}
        differences = []
        if recorded.get("direction") not in (None, direction):
            differences.append(f"dirección {recorded['direction']} (pediste {direction})")
        if recorded.get("profile") not in (None, profile):
            differences.append(f"perfil «{recorded['profile']}» (pediste «{profile}»)")
        old = recorded.get("config") if isinstance(recorded.get("config"), dict) else {}
        changed = [
            f"{key} {old[key]} (ahora {config[key]})"
            for key in _ARCHITECTURE
            if old.get(key, config[key]) != config[key]
        ]
        if changed and recorded.get("profile") in (None, profile):
            differences.append("otro modelo: " + ", ".join(changed))
        if differences:
            raise TranslatorError(
                f"La carpeta {folder} ya tiene un entrenamiento de otro traductor ({'; '.join(differences)}) "
                f"y no se puede reanudar con este: {start_over}"
            )
    if rank_and_world()[0] == 0:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = info.with_suffix(".parcial")
        temporary.write_text(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, info)
