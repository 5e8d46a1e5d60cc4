"""The outbox: publications written in the app's own transaction, published
after commit by ``manage.py relevo_relay`` (``relevo.contrib.django.relay``)."""

from __future__ import annotations

from django.db import models

__all__ = ["Outbox"]


class Outbox(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # relevo refused it for good (bad channel, namespace, size)

    id = models.BigAutoField(primary_key=True)
    channel = models.CharField(max_length=255)
    event = models.CharField(max_length=255)
    data = models.JSONField(null=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    offset = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        app_label = "relevo"
        db_table = "relevo_outbox"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event} → {self.channel} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this row. The creation time keeps it
        unique when a restored database hands out an id again."""
        return f"django-outbox:{self.pk}:{self.created_at.timestamp():.6f}"
