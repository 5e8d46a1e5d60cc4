"""Clients generated from /api/openapi.json prove it complete and usable:

- Python: ``openapi-python-client`` (pinned, in a venv of its own outside the
  repo: it pins an older httpx than relevo's) generates a package into a temp
  dir; a script run by that venv imports it and, as a backend with the API
  key, sets up a trámite, issues a ticket and creates a lead against a real
  server, and reads the Spanish ``mensaje`` of a refusal.
- TypeScript: ``openapi-typescript`` (pinned in tests/web/openapi_ts) turns
  the document into types; a small call site using them compiles with
  ``tsc --strict --noEmit``, and a wrong body fails to compile.

``.ci/run`` installs both; elsewhere a missing one skips, under CI it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import missing_service, timeout
from tests.web.fullserver import API_KEY, FullServer, start_full_server

HERE = Path(__file__).resolve().parent
TS_TOOLS = HERE / "openapi_ts"
#: The venv .ci/run makes for openapi-python-client, outside the repo.
PY_TOOLS = Path(
    os.environ.get("RELEVO_OPENAPI_CLIENT_HOME", Path.home() / ".cache" / "relevo-openapi-client")
)
PY_GENERATOR_VERSION = "0.29.1"


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "full.db")
    yield srv
    await srv.stop()


async def _spec(srv: FullServer, tmp_path: Path) -> Path:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        doc = (await http.get("/api/openapi.json")).json()
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(doc))
    return path


async def _run(cmd: list[str], cwd: Path, seconds: float = 180, **env: str) -> str:
    """Run a tool without blocking the server's loop; a failure shows its output."""
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout(seconds))
    text = out.decode()
    assert proc.returncode == 0, f"{' '.join(cmd)} -> {proc.returncode}\n{text}"
    return text


# -- Python -------------------------------------------------------------------------

_PY_CALLS = """
import sys
from relevo_api import AuthenticatedClient, Client
from relevo_api.api.leads import leads_create
from relevo_api.api.turnos import turnos_configurar, turnos_emitir
from relevo_api.models import (
    AppError, Lead, LeadsContacto, LeadsCreate, TurnosArea, TurnosEmitir, TurnosTablas,
    TurnosTramite,
)

url, key = sys.argv[1], sys.argv[2]
backend = AuthenticatedClient(base_url=url, token=key, prefix="apikey")
config = turnos_configurar.sync(
    client=backend,
    body=TurnosTablas(
        areas=[TurnosArea(id="caja", nombre="Caja")],
        tramites=[TurnosTramite(id="pagos", nombre="Pagos", prefijo="P", area_id="caja")],
    ),
)
assert "pagos" in [t.id for t in config.tramites], config

kiosk = Client(base_url=url)
issued = turnos_emitir.sync_detailed(client=kiosk, body=TurnosEmitir(tramite_id="pagos"))
assert issued.status_code == 201, issued
print("turno", issued.parsed.turno.state, issued.parsed.turno.numero, issued.parsed.adelante)

lead = leads_create.sync(
    client=backend,
    body=LeadsCreate(data=LeadsContacto(nombre="Ana Torres", telefono="987654321")),
)
assert isinstance(lead, Lead), lead
print("lead", lead.state, lead.nombre, lead.telefono)

refused = turnos_emitir.sync(client=kiosk, body=TurnosEmitir(tramite_id="no-existe"))
assert isinstance(refused, AppError), refused
print("error", refused.code, refused.additional_properties.get("mensaje") or refused.mensaje)
"""


@pytest.fixture(scope="session")
def py_generator() -> Path:
    tool = PY_TOOLS / "bin" / "openapi-python-client"
    if not tool.exists():
        missing_service(
            f"openapi-python-client {PY_GENERATOR_VERSION} is not installed in {PY_TOOLS} "
            "(.ci/run makes that venv)"
        )
    return tool


async def test_a_generated_python_client_creates_a_ticket_and_a_lead(
    full: FullServer, tmp_path: Path, py_generator: Path
) -> None:
    spec = await _spec(full, tmp_path)
    out = tmp_path / "relevo_api"
    version = await _run([str(py_generator), "--version"], tmp_path)
    assert PY_GENERATOR_VERSION in version, version
    bin_dir = str(py_generator.parent)
    log = await _run(
        [str(py_generator), "generate", "--path", str(spec), "--output-path", str(out)]
        + ["--meta", "none"],
        tmp_path,
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    # Every operation generated: a schema it cannot read drops an endpoint.
    assert "will not be generated" not in log, log
    assert "Cannot parse" not in log, log
    script = tmp_path / "calls.py"
    script.write_text(_PY_CALLS)
    printed = await _run(
        [str(PY_TOOLS / "bin" / "python"), str(script), full.url, API_KEY],
        tmp_path,
        PYTHONPATH=str(tmp_path),
    )
    lines = dict(line.split(" ", 1) for line in printed.strip().splitlines())
    state, number, ahead = lines["turno"].split(" ")
    assert state == "en_espera", printed
    assert int(number) >= 1, printed
    assert int(ahead) >= 0, printed
    assert lines["lead"] == "nuevo Ana Torres 987654321", printed
    code, mensaje = lines["error"].split(" ", 1)
    assert code == "not_found", printed
    assert mensaje not in ("", "None"), printed


# -- TypeScript ----------------------------------------------------------------------

_TS_CALLS = """
import type { components, paths } from "./api";

type Emitir = paths["/api/turnos/turnos"]["post"];
type Body = Emitir["requestBody"]["content"]["application/json"];
type Issued = Emitir["responses"][201]["content"]["application/json"];
type Refused = Emitir["responses"][429]["content"]["application/json"];
type Lead = components["schemas"]["Lead"];
type Cargar = paths["/api/cargue/plantillas"]["post"];
type Plantilla = Cargar["requestBody"]["content"]["application/json"];

export async function emitir(base: string, body: Body): Promise<Issued> {
  const res = await fetch(`${base}/api/turnos/turnos`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const err = (await res.json()) as Refused;
    throw new Error(`${err.code}: ${err.mensaje ?? err.message}`);
  }
  return (await res.json()) as Issued;
}

export function numero(issued: Issued): number | null {
  const n = issued.turno.numero;
  return typeof n === "number" ? n : null;
}

export const ok: Body = { tramite_id: "pagos", prioridad: 1 };
export const lead: Pick<Lead, "id" | "version"> = { id: "1", version: 1 };
export const plantilla: Plantilla = {
  vendedor_id: "v1",
  rows: [{ producto: "Agua", cantidad: 3 }],
};
export const check: components["schemas"]["CargueCheck"] = { check: "v", value: true };
"""

_TS_WRONG = """
import type { components } from "./api";
// "x" is not a check, and value is a boolean: both must fail to compile.
export const bad: components["schemas"]["CargueCheck"] = { check: "x", value: "yes" };
"""

_TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "ES2022",
        "module": "ES2022",
        "moduleResolution": "bundler",
        "lib": ["ES2022", "DOM"],
        "skipLibCheck": False,
    },
}


@pytest.fixture(scope="session")
def ts_tools() -> tuple[str, Path, Path]:
    import shutil

    node = shutil.which("node")
    generator = TS_TOOLS / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
    tsc = TS_TOOLS / "node_modules" / "typescript" / "bin" / "tsc"
    if node is None or not generator.exists() or not tsc.exists():
        missing_service("openapi-typescript is not installed: run `npm ci` in tests/web/openapi_ts")
    return str(node), generator, tsc


async def test_generated_typescript_types_type_check_a_call_site(
    full: FullServer, tmp_path: Path, ts_tools: tuple[str, Path, Path]
) -> None:
    node, generator, tsc = ts_tools
    spec = await _spec(full, tmp_path)
    # Fields with a default are optional in a request: not "required" as v7 has it by default.
    flags = ["--default-non-nullable=false"]
    await _run([node, str(generator), str(spec), "-o", str(tmp_path / "api.ts"), *flags], tmp_path)
    (tmp_path / "tsconfig.json").write_text(json.dumps({**_TSCONFIG, "files": ["calls.ts"]}))
    (tmp_path / "calls.ts").write_text(_TS_CALLS)
    await _run([node, str(tsc), "-p", "tsconfig.json"], tmp_path)

    (tmp_path / "tsconfig.json").write_text(json.dumps({**_TSCONFIG, "files": ["wrong.ts"]}))
    (tmp_path / "wrong.ts").write_text(_TS_WRONG)
    with pytest.raises(AssertionError, match=r"TS2322"):
        await _run([node, str(tsc), "-p", "tsconfig.json"], tmp_path)


def test_the_pins_are_exact() -> None:
    package = json.loads((TS_TOOLS / "package.json").read_text())
    for name, version in package["devDependencies"].items():
        assert version[0].isdigit(), (name, version)
    lock = json.loads((TS_TOOLS / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/openapi-typescript"]["version"] == "7.13.0"
    assert sys.version_info >= (3, 11)
