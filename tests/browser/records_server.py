"""A relevo server process with the real records layer and one small kind,
for browser tests that kill and restart it (SQLite file: state survives,
the memory broker's history does not).

usage: python -m tests.browser.records_server CONFIG PORT DBFILE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relevo.records import Field, Kind, Records, Transition
from relevo.records.extension import records_extension
from relevo.server.app import RelevoServer
from relevo.server.config import load_settings
from relevo.web import Extension
from tests.browser.conftest import HARNESS, harness_script

TAREA = Kind(
    "tarea",
    fields={"titulo": Field(str, required=True), "asesor_id": Field(int)},
    states={"abierta", "hecha"},
    initial="abierta",
    transitions=[
        Transition(
            "asignar", source={"abierta"}, accepts=frozenset({"asesor_id"}), event="TAREA_ASIGNADA"
        ),
        Transition("cerrar", source={"abierta"}, target="hecha", event="TAREA_HECHA"),
    ],
    channels=["tareas", "tareas:{asesor_id}"],
    live={"": "tareas", "asesor_id": "tareas:{asesor_id}"},
    indexed=["asesor_id"],
)


async def harness(request: Request) -> Response:
    return Response(HARNESS, media_type="text/html")


async def main(config: Path, port: int, db: Path) -> None:
    settings = load_settings(config, {"server": {"port": port}})
    records = Records(f"sqlite+aiosqlite:///{db}", [TAREA])
    server = RelevoServer(
        settings,
        extensions=[
            records_extension(records),
            Extension(
                "h",
                routes=[Route("/__harness", harness), Route("/__harness.js", harness_script)],
            ),
        ],
    )
    records.attach(server.hub)
    await server.serve()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))
