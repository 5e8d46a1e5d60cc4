"""``npm pack`` makes a tarball of the package (its modules, types and README,
nothing else), and a fresh project installs it, type-checks an import of it
without the DOM's types, and imports it in Node."""

from __future__ import annotations

import json
from pathlib import Path

from tests.js.conftest import PACKAGE, SRC, run

CONSUMER = """\
import { connect, RelevoError, type Publication, type Subscription } from "@relevo/client";

const seen: Array<number | string> = [];
const rv = connect("http://127.0.0.1:8000", { token: "jwt" });
type N = { n: number };
const sub: Subscription<N> = rv.subscribe<N>("demo:x", (pub: Publication<N>) => {
  const n: number = pub.data.n;
  seen.push(n);
});
sub.ready.catch((err: unknown) => err instanceof RelevoError && seen.push(err.code));
rv.close();
export { seen };
"""


def test_npm_pack_installs_and_type_checks_in_a_fresh_project(
    node: str, npm: str, tsc: Path, tmp_path: Path
) -> None:
    packed = json.loads(run([npm, "pack", "--json", "--pack-destination", str(tmp_path)], PACKAGE))
    files = {f["path"] for f in packed[0]["files"]}
    modules = {f"src/{p.name}" for p in SRC.glob("*.js")}
    assert files == {"package.json", "README.md", "index.d.ts", *modules}
    tarball = tmp_path / packed[0]["filename"]

    project = tmp_path / "consumer"
    project.mkdir()
    manifest = {"name": "consumer", "version": "1.0.0", "private": True, "type": "module"}
    (project / "package.json").write_text(json.dumps(manifest))
    run([npm, "install", "--offline", "--no-audit", "--no-fund", str(tarball)], project)
    installed = json.loads((project / "node_modules/@relevo/client/package.json").read_text())
    assert installed["name"] == "@relevo/client"
    assert installed.get("dependencies", {}) == {}

    (project / "main.ts").write_text(CONSUMER)
    tsconfig = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "es2022",
            "lib": ["es2022"],  # no DOM: a Node project's types
            "types": [],
            "module": "nodenext",
            "moduleResolution": "nodenext",
            "skipLibCheck": False,
        },
        "files": ["main.ts"],
    }
    (project / "tsconfig.json").write_text(json.dumps(tsconfig))
    run([node, str(tsc), "-p", str(project)], project)

    script = 'const m = await import("@relevo/client"); console.log(Object.keys(m).sort().join());'
    names = run([node, "--input-type=module", "-e", script], project).strip()
    assert names == "Client,LABELS,RelevoError,VERSION,backoffDelay,connect,indicator,poll"
    version = 'import { VERSION } from "@relevo/client"; console.log(VERSION);'
    got = run([node, "--input-type=module", "-e", version], project).strip()
    assert got == installed["version"]


def test_the_lockfile_names_no_download_address() -> None:
    lock = (PACKAGE / "package-lock.json").read_text()
    assert '"resolved"' not in lock
    assert "omit-lockfile-registry-resolved=true" in (PACKAGE / ".npmrc").read_text()
