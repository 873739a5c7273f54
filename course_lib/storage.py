"""Dónde guarda el cuaderno 07 los puntos de control: en Colab, en Google Drive (07).

Colab borra el disco de la sesión cuando la recicla (tras un rato sin actividad, o al cabo de
unas horas): un entrenamiento guardado ahí se pierde entero. En Google Drive sobrevive, y al
volver a ejecutar el cuaderno :func:`course_lib.translate.train_translator` reanuda desde él.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from course_lib.utils import fast_mode, in_colab

DRIVE_MOUNT = Path("/content/drive")
DRIVE_FOLDER = DRIVE_MOUNT / "MyDrive" / "atencion-transformers"


def checkpoint_folder(name: str, use_drive: bool = True, local_root: str | Path = "checkpoints") -> Path:
    """La carpeta de los puntos de control del entrenamiento ``name`` (p. ej. ``"en-es-cpu"``).

    - En modo rápido, una carpeta temporal (al corregir no se deja nada en disco).
    - En Colab con ``use_drive``, ``MyDrive/atencion-transformers/<name>`` en Google Drive, que
      se monta aquí (Colab pide permiso la primera vez). Si no se puede montar, lo dice y usa
      la carpeta local.
    - Si no, ``<local_root>/<name>``.

    Dice siempre dónde guarda y, en Colab, cómo cambiarlo.
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"`name` debe ser un nombre de carpeta sin «/»; recibí {name!r}.")
    if fast_mode():
        return Path(tempfile.mkdtemp()) / name
    local = Path(local_root) / name
    if not in_colab():
        return local
    if not use_drive:
        print(
            f"Guardo los puntos de control en {local}, en el disco de esta sesión de Colab: "
            "se pierden si Colab la recicla. Con USE_DRIVE = True irían a Google Drive."
        )
        return local
    print(
        "Guardo los puntos de control en Google Drive, para que sobrevivan si Colab recicla la sesión. "
        "Colab te pedirá permiso para acceder a tu Drive; si prefieres no darlo, pon USE_DRIVE = False."
    )
    try:
        from google.colab import drive  # solo existe en Colab

        drive.mount(str(DRIVE_MOUNT))
    except Exception as error:  # permiso denegado, sin cuenta, tiempo agotado…
        print(
            f"No pude montar Google Drive ({type(error).__name__}: {error}). Guardo en {local}, en el disco "
            "de esta sesión: se pierde si Colab la recicla."
        )
        return local
    return DRIVE_FOLDER / name


__all__ = ["DRIVE_FOLDER", "checkpoint_folder"]
