# Configuración (la misma celda en todos los cuadernos).
# Si el curso no se puede importar, o no es la versión de este cuaderno (Colab, Kaggle, Binder…), lo
# instala con pip: una versión publicada, del índice de paquetes (PyPI, una rueda: segundos); una
# versión en preparación (.dev), desde la rama main del repositorio. Con el curso ya instalado, nada.
import importlib.metadata
import os
import subprocess
import sys

COURSE_VERSION = "@VERSION@"  # la versión del curso de este cuaderno (la cambia ci/version.py)
PACKAGE = "@PACKAGE@"  # el paquete y el repositorio, los de pyproject.toml (ci/repositorio.py)
REPO = "@REPO@"
try:
    import course_lib

    installed = importlib.metadata.version(PACKAGE)
except (ImportError, importlib.metadata.PackageNotFoundError):
    installed = None
if installed != COURSE_VERSION:
    if os.environ.get("CURSO_FUENTE"):  # otra fuente: una carpeta, una rueda o una dirección git+https://…
        source, origin = os.environ["CURSO_FUENTE"], "la variable de entorno CURSO_FUENTE"
    elif ".dev" in COURSE_VERSION:
        source, origin = f"git+{REPO}@main", f"la rama main del repositorio {REPO}"
    else:
        source, origin = f"{PACKAGE}=={COURSE_VERSION}", "el índice de paquetes de Python (PyPI)"
    print(f"Instalando el curso {COURSE_VERSION} con pip desde {origin} ({source})…", flush=True)
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *source.split()], capture_output=True, text=True
    )
    if pip.returncode != 0:
        print(pip.stdout[-2000:] + pip.stderr[-3000:])
        if origin.startswith("la variable"):
            cause = "la variable CURSO_FUENTE tiene una errata (una carpeta que no existe, una dirección mal escrita)"
        elif ".dev" in COURSE_VERSION:
            cause = f"no hay conexión a internet, o el repositorio {REPO} no existe o no es público"
        else:
            cause = f"no hay conexión a internet, o la versión {COURSE_VERSION} aún no está publicada en PyPI"
        raise RuntimeError(
            f"No se pudo instalar el curso {COURSE_VERSION} desde {origin} («{source}»; arriba, lo que dijo "
            f"pip). La causa más probable: {cause}. Para instalarlo desde otro sitio, pon en CURSO_FUENTE una "
            "carpeta con una copia del curso o una dirección git+https://…. Arréglalo y vuelve a ejecutar esta celda."
        )
    if installed is not None:  # había otra versión cargada en esta sesión
        raise RuntimeError(
            f"Instalada la versión {COURSE_VERSION} del curso, pero esta sesión tiene cargada la {installed}: "
            "reinicia el entorno de ejecución y vuelve a ejecutar esta celda."
        )

import math

import matplotlib.pyplot as plt
import torch
from torch import nn

import course_lib
from course_lib import checks, viz

device = course_lib.setup(seed=0)
