"""Finding 1 of the trust issue: an asesor learns nothing about a lead that is
not theirs — not from a no-op reply, not from an error. Counting ids up must
not read the table: every answer about another asesor's lead is the same bare
``forbidden``, with no state, holder, name or channel in it."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LeadsServer

ACTIONS = ("open", "heartbeat", "step", "complete", "close")
SECRETS = ("Rosa", "955000123", "asesor:5", "Jorge", "en_gestion", "derivado", "terminado")


def _body(action: str) -> dict[str, Any]:
    if action == "open":
        return {"tab": "t4"}
    if action in ("step", "complete"):
        return {"fencing_token": 999_999, "data": {"tipificacion": "venta"}}
    return {"fencing_token": 999_999}


def _assert_bare_denial(res: Any, where: str) -> None:
    assert res.status_code == 403, (where, res.status_code, res.text)
    body = res.json()
    assert body["code"] == "forbidden", (where, body)
    assert set(body) == {"code", "message", "retry"}, (where, body)
    for secret in SECRETS:
        assert secret not in res.text, (where, secret, res.text)


@pytest.mark.parametrize("held", [False, True], ids=["free", "open_by_owner"])
async def test_another_asesors_lead_answers_a_bare_forbidden(app: LeadsServer, held: bool) -> None:
    lead = await app.create("Rosa Quispe", "955000123")
    await app.assign(lead["id"], "5")
    if held:
        opened = await app.ok("POST", f"/api/leads/{lead['id']}/open", "5", json={"tab": "t5"})
        assert opened["lease"]["holder"] == "5"
    for action in ACTIONS:
        res = await app.request(
            "POST", f"/api/leads/{lead['id']}/{action}", "4", json=_body(action)
        )
        _assert_bare_denial(res, f"{action} ({'held' if held else 'free'})")
    # The records API says no the same way: no channel, no holder.
    for path in (f"/api/records/lead/{lead['id']}", f"/api/records/lead/{lead['id']}/history"):
        res = await app.request("GET", path, "4")
        assert res.status_code == 403, (path, res.text)
        for secret in SECRETS:
            assert secret not in res.text, (path, secret, res.text)
    # Nothing moved.
    rec = await app.ok("GET", f"/api/records/lead/{lead['id']}", "g1")
    assert rec["asesor_id"] == "5"
    assert (rec["lease"] is not None) is held


async def test_a_finished_lead_of_another_asesor_is_not_readable_by_close(
    app: LeadsServer,
) -> None:
    lead = await app.create("Rosa Quispe", "955000123")
    await app.assign(lead["id"], "5")
    opened = await app.ok("POST", f"/api/leads/{lead['id']}/open", "5", json={"tab": "t5"})
    token = opened["lease"]["fencing_token"]
    await app.ok(
        "POST",
        f"/api/leads/{lead['id']}/complete",
        "5",
        json={"fencing_token": token, "data": {"tipificacion": "venta"}},
    )
    for action in ACTIONS:
        res = await app.request(
            "POST", f"/api/leads/{lead['id']}/{action}", "4", json=_body(action)
        )
        _assert_bare_denial(res, f"{action} (terminado)")


async def test_own_lead_no_op_close_still_answers_with_the_record(app: LeadsServer) -> None:
    """The wizard's close after an expiry is a no-op, and the owner may see it."""
    lead = await app.create("Rosa Quispe", "955000123")
    await app.assign(lead["id"], "4")
    res = await app.ok("POST", f"/api/leads/{lead['id']}/close", "4", json={"fencing_token": 1})
    assert res["record"]["id"] == lead["id"]


async def test_unknown_lead_is_not_found(app: LeadsServer) -> None:
    for action in ACTIONS:
        res = await app.request("POST", f"/api/leads/999999/{action}", "4", json=_body(action))
        assert res.status_code == 404, (action, res.text)
        assert res.json()["code"] == "not_found"
