"""Server-only channels: reserved patterns beat any publish rule."""

from __future__ import annotations

import pytest

from relevo.hub.auth import Identity
from relevo.hub.permissions import Permissions
from relevo.protocol.errors import PermissionDenied
from relevo.settings import NamespaceSettings, Rule

AGENT = Identity("carla", frozenset({"agente"}), "andes")
OPEN = NamespaceSettings("t", subscribe=(Rule(),), publish=(Rule(),))
ANYWHERE = NamespaceSettings("x", publish=(Rule(),))


def test_reserved_patterns_refuse_client_publish_whatever_the_rules() -> None:
    perms = Permissions((OPEN, ANYWHERE))
    perms.reserve_for_server(["t:*:inbox", "t:*:conv:*", "gtr"])
    for ch in ("t:andes:inbox", "t:a:b:inbox", "t:andes:conv:7", "t:andes:conv:7:x"):
        with pytest.raises(PermissionDenied, match="only the server publishes"):
            perms.check_publish(AGENT, ch)
    for ch in ("t:andes:typing", "t::inbox", "t:andes:inboxes", "x:gtr"):
        perms.check_publish(AGENT, ch)  # not reserved: the namespace's rules decide
    perms.check_subscribe(AGENT, "t:andes:inbox")  # reading is the rules' business


def test_a_pattern_whose_namespace_is_a_field_is_checked_everywhere() -> None:
    perms = Permissions((OPEN, ANYWHERE))
    perms.reserve_for_server(["*:feed"])
    assert perms.server_only("x:feed")
    assert perms.server_only("t:andes:feed")
    assert not perms.server_only("x:feeds")
