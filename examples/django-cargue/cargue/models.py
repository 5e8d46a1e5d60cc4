"""A load sheet (planilla) per vendor and day, one line per product with the
vendor's check V and the dispatcher's check D."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Planilla(models.Model):
    vendedor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    grupo = models.CharField(max_length=50, db_index=True)
    fecha = models.DateField()

    class Meta:
        unique_together = [("vendedor", "fecha")]

    def __str__(self) -> str:
        return f"{self.vendedor} {self.fecha}"


class Linea(models.Model):
    planilla = models.ForeignKey(Planilla, on_delete=models.CASCADE, related_name="lineas")
    orden = models.PositiveIntegerField()
    producto = models.CharField(max_length=120)
    cantidad = models.PositiveIntegerField()
    v = models.BooleanField(default=False)
    d = models.BooleanField(default=False)

    class Meta:
        ordering = ["orden"]

    def __str__(self) -> str:
        return f"{self.producto} ({self.cantidad})"
