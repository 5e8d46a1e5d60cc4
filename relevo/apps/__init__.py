"""The apps that ship inside relevo (one folder each)."""

KNOWN_APPS: tuple[str, ...] = ("leads", "turnos", "cargue", "inbox")
