"""``{% load relevo %}{% relevo_client %}``: one module script that imports
``/relevo.js`` from ``RELEVO_URL`` and connects with the token view as
``getToken``. Pages use the connection with
``import { rv, relevo } from "{% static 'relevo/django/client.js' %}"``
(the same module, so the same connection), or wait for the ``relevo:ready``
event on ``document`` (``event.detail = {rv, relevo}``).

No inline script: it runs under a ``script-src`` policy that allows the
page's static files and the relevo origin.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from relevo.contrib.django.conf import conf

register = template.Library()


@register.simple_tag
def relevo_client(token_url: str = "", url: str = "") -> SafeString:
    """``token_url`` defaults to the ``relevo:token`` route, ``url`` to ``RELEVO_URL``."""
    return format_html(
        '<script type="module" src="{}" data-relevo-url="{}" data-token-url="{}"></script>',
        static("relevo/django/client.js"),
        url or conf().url,
        token_url or reverse("relevo:token"),
    )
