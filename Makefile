# «Atención y Transformers»: instalación, laboratorio, pruebas y corrección.
# Cada objetivo prepara el entorno (.venv) él solo si hace falta.
#   make lab        abre JupyterLab en notebooks/
#   make test       instala y ejecuta todas las pruebas (lo que ejecuta CI)
#   make calidad    solo las puertas de calidad (esqueleto, ortografía, ruff, cuadernos limpios, prosa propia)
#   make formato    da formato con ruff a la biblioteca, las pruebas y los cuadernos
#   make release    regenera notebooks/ a partir de solutions/ con nbgrader
#   make autograde feedback export   corrige lo que haya en submitted/

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS := lab,test
RESTRICCIONES ?= ci/restricciones-cpu.txt
PUERTO ?= 8888
# Cuadernos del curso: una carpeta por tarea en solutions/.
TAREAS ?= $(notdir $(patsubst %/,%,$(wildcard solutions/*/)))
# Tareas con entregas en submitted/<alumno>/<tarea>/.
ENTREGADAS = $(sort $(notdir $(patsubst %/,%,$(wildcard submitted/*/*/))))

# nbgrader llama a otros ejecutables del entorno (alembic): el entorno va primero en el PATH.
export PATH := $(abspath $(BIN)):$(PATH)

RESTRICCION_PIP := $(if $(wildcard $(RESTRICCIONES)),-c $(RESTRICCIONES),)
INSTALADO := $(VENV)/.instalado
NBGRADER := CURSO_RAPIDO=1 $(BIN)/nbgrader
COMO_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: instalar lab test calidad formato release autograde feedback export limpiar

instalar: $(INSTALADO)

$(INSTALADO): pyproject.toml $(wildcard $(RESTRICCIONES))
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Hace falta Python 3.10 o posterior; este es " + sys.version.split()[0])'
	@test -x $(BIN)/python || { echo "Creando el entorno $(VENV)…"; $(PYTHON) -m venv $(VENV) || { \
		echo "No pude crear el entorno virtual. En Debian/Ubuntu instala el módulo venv: sudo apt install python3-venv"; \
		rm -rf $(VENV); exit 1; }; }
	@echo "Instalando el curso y sus dependencias (la primera vez tarda unos minutos)…"
	$(BIN)/python -m pip install --quiet $(RESTRICCION_PIP) -e ".[$(EXTRAS)]"
	@touch $@

lab: $(INSTALADO)
	@echo "Abriendo JupyterLab en notebooks/. Abre en el navegador la dirección http://127.0.0.1:$(PUERTO)/lab?token=… que aparece abajo."
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PUERTO) --ServerApp.root_dir=notebooks $(COMO_ROOT)

test: $(INSTALADO)
	CURSO_RAPIDO=1 MPLBACKEND=Agg $(BIN)/python -m pytest

calidad: $(INSTALADO)
	CURSO_RAPIDO=1 $(BIN)/python -m pytest tests/test_calidad.py

formato: $(INSTALADO)
	$(BIN)/ruff check --fix course_lib tests solutions nbgrader_config.py
	$(BIN)/ruff format course_lib tests solutions nbgrader_config.py
	@echo "Si cambiaron cuadernos de solutions/, ejecuta make release."

release: $(INSTALADO)
	@for t in $(TAREAS); do $(NBGRADER) generate_assignment $$t --force || exit 1; done

autograde: $(INSTALADO)
	@test -n "$(ENTREGADAS)" || { echo "No hay entregas: pon cada cuaderno en submitted/<alumno>/<tarea>/<tarea>.ipynb"; exit 1; }
	@for t in $(ENTREGADAS); do $(NBGRADER) autograde $$t --force || echo "Aviso: nbgrader informó de errores al corregir $$t (revisa el registro de arriba)."; done

feedback: $(INSTALADO)
	@for t in $(ENTREGADAS); do $(NBGRADER) generate_feedback $$t --force || exit 1; done
	@echo "Comentarios en feedback/<alumno>/<tarea>/<tarea>.html"

export: $(INSTALADO)
	$(NBGRADER) export
	@echo "Notas en grades.csv"

limpiar:
	rm -rf $(VENV) .pytest_cache gradebook.db autograded feedback grades.csv
