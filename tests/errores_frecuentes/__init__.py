"""Un módulo por cuaderno (``c<id>.py``) con la lista ``MISTAKES`` de errores sembrados."""
