"""Django settings of the integration tests. The database and the relevo
server are per run; their names come from the environment the session
fixture sets (so ``manage.py``-style subprocesses such as the relay see the
same)."""

from __future__ import annotations

import os

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "relevo.contrib.django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.contrib.django.urls"
STATIC_URL = "/static/"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("RELEVO_DJANGO_DB", "test"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

RELEVO_URL = os.environ.get("RELEVO_DJANGO_RELEVO_URL", "http://127.0.0.1:9")
RELEVO_API_KEY = os.environ.get("RELEVO_DJANGO_API_KEY", "test-api-key")
RELEVO_TOKEN_SECRET = "test-secret-0123456789abcdef-0123456789"
RELEVO_TOKEN_TTL = 120
RELEVO_ROLES = {"despachadores": "despachador", "vendedores": ["vendedor"]}
RELEVO_TENANT = "tests.contrib.django.settings.tenant_of"
RELEVO_RETRIES = 1


def tenant_of(user: object) -> str:
    return "norte"
