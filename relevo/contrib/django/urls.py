"""``path("relevo/", include("relevo.contrib.django.urls"))`` mounts the token
view at ``relevo/token`` (named ``relevo:token``, the template tag's default)."""

from __future__ import annotations

from django.urls import path

from relevo.contrib.django import views

app_name = "relevo"

urlpatterns = [path("token", views.token, name="token")]
