"""A kind's channel templates become the patterns the hub reserves."""

from __future__ import annotations

from relevo.apps.inbox.kinds import all_kinds
from relevo.hub.permissions import Permissions
from relevo.records._channels import channel_patterns, reserve_record_channels
from relevo.records.kinds import Field, Kind


def test_each_field_of_a_template_becomes_a_wildcard() -> None:
    kind = Kind(
        "lead",
        fields={"asesor_id": Field(int), "tenant": Field(str)},
        channels=["gtr", "asesor:{asesor_id}", "t:{tenant}:lead:{id}", lambda r: ["x"]],
    )
    assert channel_patterns(kind) == ["gtr", "asesor:*", "t:*:lead:*"]


def test_the_inbox_kinds_reserve_every_channel_they_publish_on() -> None:
    perms = Permissions(())
    reserve_record_channels(perms, all_kinds())
    for ch in ("t:andes:inbox", "t:andes:conv:12", "t:andes:bulk"):
        assert perms.server_only(ch), ch
    assert not perms.server_only("t:andes:typing")
