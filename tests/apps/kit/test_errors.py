"""One error type for every app: relevo's code, status and English message,
the Spanish ``mensaje`` and the fields the pages read, in one body shape."""

from __future__ import annotations

import json

from relevo.apps.kit.errors import (
    bad_request,
    conflict,
    forbidden,
    locked,
    not_found,
    rate_limited,
    with_extra,
)
from relevo.apps.kit.http import error_reply
from relevo.protocol.errors import Conflict, Locked, NotFound, PermissionDenied, ProtocolError


def body(exc: Exception) -> tuple[int, dict[str, object], dict[str, str]]:
    response = error_reply(exc)  # type: ignore[arg-type]
    return response.status_code, json.loads(bytes(response.body)), dict(response.headers)


def test_each_helper_is_the_error_of_its_code_with_a_mensaje() -> None:
    cases = [
        (bad_request("x must be 1", "X debe ser 1.", field="x"), ProtocolError, 400),
        (forbidden("not yours", "No es tuyo."), PermissionDenied, 403),
        (not_found("no mesa 9", "La mesa 9 no existe."), NotFound, 404),
        (conflict("is done", "Ya terminó.", state="terminado"), Conflict, 409),
        (locked("mesa 1 is open by op1", "La abrió op1.", holder="op1"), Locked, 423),
    ]
    for exc, cls, status in cases:
        assert isinstance(exc, cls)
        got_status, got, _ = body(exc)
        assert got_status == status
        assert got["code"] == str(exc.code)
        assert got["message"] == exc.message
        assert got["retry"] is False
        assert str(got["mensaje"]).endswith(".")
    assert body(cases[0][0])[1]["field"] == "x"
    assert body(cases[3][0])[1]["state"] == "terminado"
    assert body(cases[4][0])[1]["holder"] == "op1"


def test_an_english_only_error_has_no_mensaje() -> None:
    _, got, _ = body(bad_request("tab is required", field="tab"))
    assert got == {
        "code": "bad_request",
        "message": "tab is required",
        "retry": False,
        "field": "tab",
    }


def test_rate_limited_says_when_to_retry() -> None:
    status, got, headers = body(rate_limited("too many", "Espere.", 2.345))
    assert status == 429
    assert got["code"] == "rate_limited"
    assert got["retry"] is True
    assert got["retry_after"] == 2.3
    assert headers["retry-after"] == "2"
    assert body(rate_limited("too many", "Espere.", 0.2))[2]["retry-after"] == "1"


def test_with_extra_adds_to_what_the_error_had() -> None:
    exc = with_extra(Locked("held", holder="4"), holder_name="Lucía", same_user=False)
    assert body(exc)[1]["holder"] == "4"
    assert body(exc)[1]["holder_name"] == "Lucía"
    assert body(with_extra(exc, "Lo tiene Lucía."))[1]["mensaje"] == "Lo tiene Lucía."
