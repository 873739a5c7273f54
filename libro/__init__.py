"""El libro del curso: un sitio HTML estático con los cuadernos resueltos y ejecutados (``make libro``)."""
