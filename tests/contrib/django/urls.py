from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("relevo/", include("relevo.contrib.django.urls"))]
