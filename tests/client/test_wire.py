"""The SDK speaks the wire format through relevo.protocol, never a copy of it."""

from __future__ import annotations

import ast
import inspect

from relevo.client import subscriber


def test_the_subscriber_builds_and_reads_frames_only_through_protocol() -> None:
    tree = ast.parse(inspect.getsource(subscriber))
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
    imported = {alias.name for node in imports for alias in node.names}
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "json" not in imported
    assert {"relevo.protocol.server_frames", "relevo.protocol"} <= modules
