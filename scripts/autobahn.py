"""Run the Autobahn TestSuite's fuzzingclient against relevo's WebSocket code.

The suite (PyPI ``autobahntestsuite``, latest 25.10.1) is a Python 2.7
program, and Debian 12 ships no Python 2. So the first run builds a private
toolchain in ``$AUTOBAHN_HOME`` (default ``~/.cache/relevo-autobahn``), outside the
repository and touching nothing system-wide:

1. Python 2.7 from Debian 11's packages (``apt-get download`` with an apt
   state of its own, unpacked with ``dpkg -x``: nothing is installed);
2. pip 20.3.4 (the last for Python 2.7) fetched as a wheel by this Python's pip;
3. ``autobahntestsuite==25.10.1`` and its pinned dependencies (Twisted 19.10,
   autobahn 0.10.9) installed by that pip (wsaccel is compiled: needs gcc).

Then it starts ``scripts/autobahn_echo.py`` (relevo's real server, front door,
transport and parser; only the command dispatch replaced by an echo) on a free
127.0.0.1 port, runs cases 1-7 and 10 (9, 12 and 13 excluded: performance and
compression), prints the count of each outcome per group and every case that
is not plain OK, and exits 1 if any case FAILED.

Usage: scripts/autobahn [--install-only] [--no-install] [--reports DIR]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SUITE_VERSION = "25.10.1"
CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"]
EXCLUDED = ["9.*", "12.*", "13.*"]
DEBIAN_PYTHON27 = [
    "python2.7",
    "python2.7-minimal",
    "libpython2.7-minimal",
    "libpython2.7-stdlib",
    "libpython2.7",
    "libpython2.7-dev",
    "libssl1.1",  # Debian 12 has only OpenSSL 3
    "libffi7",
]
PY2_WHEELS = ["pip==20.3.4", "setuptools==44.1.1", "wheel==0.37.1"]
#: An outcome that is not one of these is a failure.
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def home() -> Path:
    if os.environ.get("AUTOBAHN_HOME"):
        return Path(os.environ["AUTOBAHN_HOME"])
    return Path.home() / ".cache" / "relevo-autobahn"


class Toolchain:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.prefix = base / "py27"
        self.site = base / "site"
        self.python = self.prefix / "usr/bin/python2.7"
        self.ready = base / f".ready-{SUITE_VERSION}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = str(self.prefix / "usr/lib/x86_64-linux-gnu")
        env["PYTHONPATH"] = str(self.site)
        include = self.prefix / "usr/include"
        env["CFLAGS"] = f"-I{include / 'python2.7'} -I{include}"
        env.pop("PYTHONHOME", None)
        return env

    def install(self) -> None:
        if self.ready.exists():
            return
        print(f"== installing the Autobahn TestSuite {SUITE_VERSION} in {self.base}", flush=True)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        self._python27()
        self._pip()
        run(
            [str(self.python), "-m", "pip", "install", "--quiet", "--target", str(self.site)]
            + [f"autobahntestsuite=={SUITE_VERSION}"],
            env=self.env(),
        )
        if self.wstest(["--autobahnversion"]):
            raise SystemExit("wstest does not start")
        self.ready.touch()

    def _python27(self) -> None:
        apt = self.base / "apt"
        for sub in ("lists/partial", "cache/archives/partial", "debs"):
            (apt / sub).mkdir(parents=True)
        sources = apt / "sources.list"
        sources.write_text(
            "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
            f"{debian_mirror()} bullseye main\n"
        )
        options = [
            f"-oDir::Etc::SourceList={sources}",
            "-oDir::Etc::SourceParts=/dev/null",
            f"-oDir::State::Lists={apt / 'lists'}",
            f"-oDir::Cache={apt / 'cache'}",
            "-oAPT::Sandbox::User=root",
        ]
        run(["apt-get", "-qq", *options, "update"])
        run(["apt-get", "-qq", *options, "download", *DEBIAN_PYTHON27], cwd=apt / "debs")
        for deb in sorted((apt / "debs").glob("*.deb")):
            run(["dpkg", "-x", str(deb), str(self.prefix)])
        run([str(self.python), "-c", "import ssl, zlib, ctypes"], env=self.env())

    def _pip(self) -> None:
        wheels = self.base / "wheels"
        run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--only-binary=:all:", "--python-version", "2.7", "-d", str(wheels)]
            + PY2_WHEELS
        )
        (pip_wheel,) = wheels.glob("pip-*.whl")
        run(
            [str(self.python), f"{pip_wheel}/pip", "install", "--quiet", "--no-index"]
            + ["--find-links", str(wheels), "--target", str(self.site)]
            + [w.split("==")[0] for w in PY2_WHEELS],
            env=self.env(),
        )

    def wstest(self, args: list[str], cwd: Path | None = None, log: IO[str] | None = None) -> int:
        # site.addsitedir reads the .pth files of zope's namespace package,
        # which PYTHONPATH alone does not.
        code = (
            f"import site, sys; site.addsitedir({str(self.site)!r}); "
            f"sys.argv = ['wstest'] + {args!r}; "
            "from autobahntestsuite.wstest import run; run()"
        )
        return subprocess.call(
            [str(self.python), "-c", code],
            env=self.env(),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT if log else None,
        )


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True)


def start_echo() -> tuple[subprocess.Popen[str], int]:
    python = os.environ.get("PYTHON") or sys.executable
    proc = subprocess.Popen(
        [python, str(ROOT / "scripts/autobahn_echo.py")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"the echo server did not start: {line!r}")
    return proc, int(line.split()[-1])


def summarize(index: Path) -> int:
    results: dict[str, dict[str, object]] = json.loads(index.read_text())["relevo"]
    per_group: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    notes = []
    for case_id in sorted(results, key=lambda c: [int(p) for p in c.split(".")]):
        result = results[case_id]
        behavior, close = str(result["behavior"]), str(result["behaviorClose"])
        if behavior in PASSING and close in PASSING | {"OK"}:
            outcome = behavior
        else:
            outcome = "FAILED"
        per_group[case_id.split(".")[0]][outcome] += 1
        if outcome != "OK":
            notes.append(
                f"  {case_id:8} {outcome:13} {behavior}/{close}, close code "
                f"{result.get('remoteCloseCode')}"
            )
    outcomes = ["OK", "NON-STRICT", "INFORMATIONAL", "FAILED"]
    print(f"\n{'group':>5} " + " ".join(f"{o:>13}" for o in outcomes) + f" {'total':>6}")
    total: collections.Counter[str] = collections.Counter()
    for group in sorted(per_group, key=int):
        counts = per_group[group]
        total += counts
        row = " ".join(f"{counts[o]:>13}" for o in outcomes)
        print(f"{group:>5} {row} {sum(counts.values()):>6}")
    print(
        f"{'all':>5} "
        + " ".join(f"{total[o]:>13}" for o in outcomes)
        + f" {sum(total.values()):>6}"
    )
    if notes:
        print("\nnot plain OK:")
        print("\n".join(notes))
    if not results:
        print("no case ran")
        return 1
    return 1 if total["FAILED"] else 0


def debian_mirror() -> str:
    """The Debian archive this machine's apt already uses (its main archive,
    not the security one): Python 2.7 comes from the same place, one release
    back."""
    texts = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for path in texts:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            line = line.strip()
            if line.startswith("URIs:"):
                uris = line.split()[1:]
            elif line.startswith("deb ") and not line.startswith("deb-src"):
                uris = [w for w in line.split()[1:] if "://" in w][:1]
            else:
                continue
            for uri in uris:
                if uri.rstrip("/").endswith("/debian"):
                    return uri.rstrip("/")
    raise SystemExit("no Debian archive in /etc/apt sources: cannot fetch Python 2.7")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install-only", action="store_true")
    parser.add_argument("--no-install", action="store_true", help="fail if not installed")
    parser.add_argument("--reports", type=Path, default=ROOT / "build/autobahn")
    args = parser.parse_args()
    tools = Toolchain(home())
    if args.no_install and not tools.ready.exists():
        print(f"the Autobahn TestSuite is not installed in {tools.base}", file=sys.stderr)
        return 2
    tools.install()
    if args.install_only:
        return 0
    reports = args.reports.resolve()
    shutil.rmtree(reports, ignore_errors=True)
    reports.mkdir(parents=True)
    echo, port = start_echo()
    try:
        spec = {
            "outdir": str(reports),
            "servers": [{"agent": "relevo", "url": f"ws://127.0.0.1:{port}/ws"}],
            "cases": CASES,
            "exclude-cases": EXCLUDED,
            "exclude-agent-cases": {},
        }
        (reports / "spec.json").write_text(json.dumps(spec, indent=2))
        with open(reports / "wstest.log", "w") as log:
            print(f"== fuzzingclient against ws://127.0.0.1:{port}/ws", flush=True)
            rc = tools.wstest(["-m", "fuzzingclient", "-s", "spec.json"], reports, log)
        if rc:
            print(f"wstest exited with {rc}; see {reports / 'wstest.log'}", file=sys.stderr)
            return rc
    finally:
        echo.send_signal(signal.SIGTERM)
        try:
            echo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            echo.kill()
    print(f"reports: {reports / 'index.html'}")
    return summarize(reports / "index.json")


if __name__ == "__main__":
    sys.exit(main())
