"""Settings of the example. Everything that differs per machine comes from
the environment (the tests set these; see README.md)."""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("CARGUE_SECRET_KEY", "solo-para-el-ejemplo")
DEBUG = os.environ.get("CARGUE_DEBUG", "1") == "1"  # runserver serves /static/ only with DEBUG
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "America/Bogota"
LANGUAGE_CODE = "es"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "relevo.contrib.django",
    "cargue",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "cargue_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("CARGUE_DB", "cargue"),
        "USER": os.environ.get("CARGUE_DB_USER", "postgres"),
        "HOST": os.environ.get("CARGUE_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("CARGUE_DB_PORT", "5432"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# relevo: the server's URL, its API key and token secret (relevo.toml [auth]).
RELEVO_URL = os.environ.get("RELEVO_URL", "http://127.0.0.1:8000")
RELEVO_API_KEY = os.environ.get("RELEVO_API_KEY", "")
RELEVO_TOKEN_SECRET = os.environ.get("RELEVO_TOKEN_SECRET", "")
RELEVO_TOKEN_TTL = 300
RELEVO_ROLES = {"vendedores": "vendedor", "despachadores": "despachador"}
# The dispatcher's channel is cargue:{tenant}: the tenant is the user's grupo.
RELEVO_TENANT = "cargue.relevo_map.grupo_de"
