from __future__ import annotations

from django.apps import AppConfig

__all__ = ["RelevoConfig"]


class RelevoConfig(AppConfig):
    name = "relevo.contrib.django"
    label = "relevo"
    verbose_name = "relevo"
    default_auto_field = "django.db.models.BigAutoField"
