"""Configuración de nbgrader para el curso «Atención y Transformers».

solutions/  → cuadernos fuente (soluciones + pruebas ocultas): lo que edita el profesorado.
notebooks/  → versión para el alumnado, generada con `make release`; nunca se edita a mano.
submitted/, autograded/, feedback/ y gradebook.db viven junto a este archivo y no van a git.
"""

c = get_config()  # noqa: F821 (nbgrader define get_config al cargar este archivo)

c.CourseDirectory.course_id = "atencion-transformers"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# La base de datos de notas queda por defecto en <raíz del curso>/gradebook.db (ignorada por git).

# Lo que ve el alumnado en lugar de la solución.
c.ClearSolutions.code_stub = {"python": "# TU CÓDIGO AQUÍ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ESCRIBE AQUÍ TU RESPUESTA"

# Tiempo máximo por celda al corregir: una respuesta en bucle infinito pierde esa celda
# (y el resto sigue corrigiéndose). En modo rápido ninguna celda pasa de unos segundos.
c.ExecutePreprocessor.timeout = 120
c.ExecutePreprocessor.interrupt_on_timeout = True

# Los comentarios (feedback) no enseñan el código de las pruebas ocultas, para poder
# reutilizarlas: ni en las celdas ni en el contexto de los tracebacks. Los mensajes de
# error, con las pistas en español, sí se ven.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

from course_lib.grading import ShortTracebacks  # noqa: E402

c.GenerateFeedback.preprocessors = [
    ClearHiddenTests,
    ShortTracebacks,
    GetGrades,
    CSSHTMLHeaderPreprocessor,
]
