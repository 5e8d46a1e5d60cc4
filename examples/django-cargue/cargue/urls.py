from __future__ import annotations

from django.urls import path

from cargue import views

urlpatterns = [
    path("", views.inicio, name="inicio"),
    path("vendedor/", views.vendedor, name="vendedor"),
    path("despacho/", views.despacho, name="despacho"),
    path("api/lineas/<int:linea_id>/v", views.marcar_v, name="marcar_v"),
]
