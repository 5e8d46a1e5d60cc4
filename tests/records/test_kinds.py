"""Kind declarations: checked when declared, pure functions of records."""

from __future__ import annotations

import pytest

from relevo.records import Field, Kind, KindError, Record, Timer, Transition

from .sample_kinds import CHECK, LEAD, TURNO


def _lead(**data: object) -> Record:
    return Record("lead", "1", 1, "derivado", {"nombre": "Ana", **data}, 0.0, 0.0)


def test_channels_are_computed_from_the_record() -> None:
    assert LEAD.channels_of(_lead(asesor_id=4)) == ["gtr", "asesor:4"]
    assert LEAD.channels_of(_lead(asesor_id=None)) == ["gtr"]


def test_live_channel_picks_the_most_specific_key() -> None:
    assert LEAD.live_channel({}) == ("gtr", "")
    assert LEAD.live_channel({"asesor_id": 4, "state": "derivado"}) == ("asesor:4", "asesor_id")
    assert LEAD.live_channel({"asesor_id": [4, 5]}) == ("gtr", "")
    with pytest.raises(ValueError, match="must filter on one of"):
        CHECK.live_channel({})


def test_clean_checks_types_choices_and_required() -> None:
    assert CHECK.clean({"vendedor_id": "7", "producto": "pan"}, partial=False)["v"] is False
    with pytest.raises(ValueError, match="required"):
        CHECK.clean({"vendedor_id": "7"}, partial=False)
    with pytest.raises(ValueError, match="must be bool"):
        CHECK.clean({"v": 1}, partial=True)
    with pytest.raises(ValueError, match="no field"):
        CHECK.clean({"x": 1}, partial=True)
    assert TURNO.fields["prioridad"].parse("prioridad", "3") == 3


def test_public_record_has_id_version_state_and_lease() -> None:
    out = LEAD.public(_lead(asesor_id=4))
    assert out["id"] == "1"
    assert out["version"] == 1
    assert out["state"] == "derivado"
    assert out["lease"] is None
    assert out["asesor_id"] == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"states": {"a"}, "initial": "b"}, "initial state"),
        ({"states": {"a"}, "initial": "a", "transitions": [Transition("t", {"a"}, "z")]},
         "unknown states"),
        ({"transitions": [Transition("t", "*")]}, "need states"),
        ({"states": {"a", "b"}, "initial": "a",
          "transitions": [Transition("t", {"a"}, "b")],
          "timers": [Timer(1, {"b"}, "t")]}, "must all allow"),
        ({"channels": ["x:{nope}"]}, "unknown fields"),
        ({"channels": ["x:{f}"], "live": {"f": "y:{f}"}}, "not one of the kind's channels"),
        ({"indexed": ["g"]}, "only str, int and bool"),
        ({"states": {"a"}, "initial": "a",
          "transitions": [Transition("t", {"a"}, requires_lease=True)]}, "declares none"),
    ],
)  # fmt: skip
def test_bad_declarations_fail_at_import_time(kwargs: dict[str, object], message: str) -> None:
    fields = {"f": Field(str), "g": Field(float)}
    with pytest.raises(KindError, match=message):
        Kind("k", fields=fields, **kwargs)  # type: ignore[arg-type]
