"""Herramientas de quien corrige el curso «Atención y Transformers» con nbgrader.

El alumnado no las necesita ni las instala (``pip install .`` o la celda de Colab traen solo
:mod:`course_lib`); el profesorado las instala con el extra ``docente``
(``pip install -e ".[docente]"``, lo que hacen ``make autograde`` y compañía). Importan
:mod:`course_lib` (para fotografiar sus módulos antes de cada prueba), nunca al revés.

- :mod:`course_grading.preprocessors`: los preprocesadores de nbgrader del curso
  (``GuardedExecute``: ejecución endurecida; ``ShortTracebacks``: comentarios sin las pruebas
  ocultas; ``harden``: lo que activa ``nbgrader_config.py``).
- :mod:`course_grading.restore`: devuelve los metadatos de nbgrader a una entrega que los perdió
  (celdas copiadas a un cuaderno nuevo) y vuelve a poner las pruebas borradas.
- :mod:`course_grading.kernel`: el núcleo de corrección, que devuelve el intérprete a su estado
  limpio antes de cada prueba calificada.
- :mod:`course_grading.sandbox`: el lanzador de ese núcleo, aislado del directorio del curso y
  con límites de memoria y CPU.
- :mod:`course_grading.lms`: entregas descargadas de un LMS → ``submitted/`` de nbgrader
  (``make recoger``) y la plantilla de los comentarios en español (``plantillas/``).

Las pistas en español que ve el alumno (``course_lib.checks``, ``course_lib.mistakes``) no
están aquí: se ejecutan también en su cuaderno, sin nbgrader.
"""
