from __future__ import annotations

from django.apps import AppConfig


class CargueConfig(AppConfig):
    name = "cargue"
    verbose_name = "Cargue"
    default_auto_field = "django.db.models.BigAutoField"
