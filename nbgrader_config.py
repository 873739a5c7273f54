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

# Corrección endurecida (course_grading/preprocessors.py): cada cuaderno se ejecuta en un núcleo aislado
# del directorio del curso (no ve solutions/, gradebook.db, .git ni otras entregas), con límites
# de memoria y CPU, que restaura su estado limpio antes de cada prueba calificada y que, si muere
# o se cuelga, da 0 a lo que faltaba por ejecutar sin parar la corrección de los demás.
# Antes, al sanear cada entrega, devuelve los metadatos de nbgrader perdidos y las pruebas
# borradas (course_grading/restore.py) y lo avisa en el registro.
# Tiempo máximo por celda: en modo rápido ninguna celda pasa de unos segundos.
import os  # noqa: E402

from course_grading.preprocessors import harden  # noqa: E402

harden(c, root=os.path.dirname(os.path.abspath(__file__)), timeout=120)

# Los comentarios (feedback) no enseñan el código de las pruebas ocultas, para poder
# reutilizarlas: ni en las celdas ni en el contexto de los tracebacks. Los mensajes de
# error, con las pistas en español, sí se ven.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

from course_grading.preprocessors import FeedbackExporter, SanitizeAnswers, ShortTracebacks  # noqa: E402

# Tampoco ejecutan nada que venga de la entrega: SanitizeAnswers (salidas) y FeedbackExporter
# (celdas de Markdown) escapan el HTML activo que escribió el alumno (``<script>``, ``onerror=``…).
c.GenerateFeedback.exporter_class = FeedbackExporter
c.GenerateFeedback.preprocessors = [
    ClearHiddenTests,
    ShortTracebacks,
    SanitizeAnswers,
    GetGrades,
    CSSHTMLHeaderPreprocessor,
]

# --- Entregas desde el LMS y comentarios en español (make recoger, make feedback) ----------
# Convención de nombres de las entregas: <id_alumno>__<cuaderno>.ipynb (ver course_grading/lms.py).
# LMSCollector deshace los cambios de nombre del navegador («… (1)») y de Colab («Copia de …»)
# y avisa en español de cada archivo que no reconoce. Para otra convención, cambia la expresión
# (grupos student_id y file_id; se aplica a la ruta absoluta, de ahí el «.*/» inicial).
from course_grading import lms  # noqa: E402

c.ZipCollectApp.collector_plugin = lms.LMSCollector
# Los nombres de dentro del zip, como los escribió el LMS aunque el zip no lleve la marca de UTF-8
# (Canvas puede no ponerla): sin esto, «muñoz» llegaría como «mu├▒oz» (ver course_grading/lms.py).
c.ZipCollectApp.extractor_plugin = lms.LMSExtractor
c.FileNameCollectorPlugin.named_regexp = lms.NAMED_REGEXP
# Comentarios (feedback) con los textos en español: course_grading/plantillas/comentarios/.
c.HTMLExporter.template_name = lms.FEEDBACK_TEMPLATE
c.HTMLExporter.extra_template_basedirs = [str(lms.TEMPLATE_DIR)]
