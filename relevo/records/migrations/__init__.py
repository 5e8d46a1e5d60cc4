"""Alembic migrations of the records store (applied by ``relevo migrate``)."""
