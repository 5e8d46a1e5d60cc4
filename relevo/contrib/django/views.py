"""The token view: ``GET`` → ``{"token": <relevo JWT>, "expires": <epoch s>}``
for the signed-in user, what ``relevo.js``'s ``getToken`` wants.

Who may call it: a signed-in, active user whom the role mapping gives a
role (or anyone signed in with ``RELEVO_ALLOW_NO_ROLE``). Everyone else gets
the bare error body ``{"code", "message", "retry"}``: ``401 unauthorized``
without a session, ``403 forbidden`` otherwise; no claim, role or tenant of
the user in either. The answer is never cached (``Cache-Control: no-store``)
and is not readable cross-origin (Django sends no CORS headers).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from relevo.contrib.django.tokens import mint_for

__all__ = ["token"]


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "retry": False}, status=status)


@never_cache
@require_GET
def token(request: HttpRequest) -> JsonResponse:
    user = request.user
    if not user.is_authenticated:
        return _error(401, "unauthorized", "sign in first")
    try:
        value, expires = mint_for(user)
    except PermissionDenied:
        return _error(403, "forbidden", "this user may not use relevo")
    return JsonResponse({"token": value, "expires": expires})
