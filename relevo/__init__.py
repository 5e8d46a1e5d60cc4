"""relevo: a real-time sync server for operational business web apps."""

__version__ = "0.1.0"
