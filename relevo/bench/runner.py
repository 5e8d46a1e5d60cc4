"""``relevo bench``: builds the C tools, installs the peers if needed, runs
every selected scenario against every selected server (a fresh server per
scenario, pinned to core 1; the generator on core 0), and writes the table."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from relevo.bench.build import BuildError, build_binary, compiler_version
from relevo.bench.machine import describe_machine
from relevo.bench.paths import BenchPaths, find_paths, package_text
from relevo.bench.peers import LaunchContext, Peer, select_peers
from relevo.bench.procinfo import pids_named
from relevo.bench.profiling import py_spy_recording, summarise
from relevo.bench.quiet import wait_until_quiet
from relevo.bench.report import RunInfo, render_run, write_report
from relevo.bench.results import Outcome, decode_line
from relevo.bench.scenarios import P99_LIMIT_MS, Scenario, select_scenarios
from relevo.bench.servers import (
    GENERATOR_CPU,
    SERVER_CPU,
    PortPool,
    ServerFailed,
    pinned,
    running_server,
)

__all__ = ["main"]

_MAX_SERVER_PIDS = 4  # the generator sums the CPU of at most this many processes
_SETTLE = 0.5  # seconds a server gets between listening and the first client
_QUIET = 0.15  # cores of other work under which the machine counts as quiet


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="relevo bench",
        description="Fan-out benchmark of relevo against Node ws, Socket.IO, Django Channels, "
        "python-socketio, websockets and a raw C limit server (see docs/benchmarks.md).",
    )
    p.add_argument("--peers", default="all", help="all, or a list such as relevo,node-ws,raw")
    p.add_argument("--scenarios", default="all", help="all, or a list such as S1,S3")
    p.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds per server")
    p.add_argument("--out", help="Markdown file to add the results to (default docs/benchmarks.md)")
    p.add_argument("--json", help="also write every generator record to this JSON file")
    p.add_argument("--no-install", action="store_true", help="never run bench/install-peers.sh")
    p.add_argument(
        "--nice",
        type=int,
        default=-15,
        help="niceness of the server and the generator (default -15: other work on the machine "
        "disturbs them less; needs root, else ignored; 0 to leave alone)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="sample relevo with py-spy during S1 and S2 (py-spy from the peers' venv)",
    )
    return p


def _log(message: str) -> None:
    print(f"relevo bench: {message}", file=sys.stderr, flush=True)


def _raise_open_files_limit() -> None:
    """10,000 connections need more descriptors than the usual soft limit;
    the servers inherit this limit from us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _ensure_peers_installed(paths: BenchPaths, peers: list[Peer], allow: bool) -> None:
    if not any(p.needs_install for p in peers) or (paths.deps / ".installed").exists():
        return
    if not allow:
        raise SystemExit("relevo bench: peers are not installed; run bench/install-peers.sh")
    if not paths.install_script.exists():
        raise SystemExit(f"relevo bench: {paths.install_script} not found (run from a checkout)")
    _log(f"installing peers with {paths.install_script} (once)")
    subprocess.run(["bash", str(paths.install_script)], check=True, timeout=1800)


def _write_relevo_config(run_dir: Path) -> Path:
    path = run_dir / "relevo-bench.toml"
    path.write_text(package_text("relevo-bench.toml"), encoding="utf-8")
    return path


def _server_pids(peer: Peer, pids: list[int]) -> list[int]:
    helpers = pids_named(peer.helper_comm) if peer.helper_comm else []
    return (pids + helpers)[:_MAX_SERVER_PIDS]


def _loadgen_argv(
    loadgen: Path, peer: Peer, scenario: Scenario, port: int, pids: list[int], quick: bool
) -> list[str]:
    argv = [str(loadgen), "--port", str(port)]
    argv += ["--dialect", peer.dialect, "--path", peer.ws_path, "--mode", scenario.mode]
    argv += ["--label", peer.name, "--p99-limit-ms", str(P99_LIMIT_MS)]
    argv += list(scenario.size(quick).args)
    for pid in pids:
        argv += ["--server-pid", str(pid)]
    return argv


class _Run:
    """The state of one ``relevo bench`` invocation."""

    def __init__(self, args: argparse.Namespace, paths: BenchPaths, run_dir: Path) -> None:
        self.args = args
        self.paths = paths
        self.run_dir = run_dir
        self.ports = PortPool()
        self.loadgen = build_binary("loadgen", paths.build)
        self.ctx = LaunchContext(
            paths=paths,
            rawserver=build_binary("rawserver", paths.build),
            relevo_config=_write_relevo_config(run_dir),
            run_dir=run_dir,
        )

    def one(self, peer: Peer, scenario: Scenario) -> Outcome:
        outcome = Outcome(peer=peer.name, scenario=scenario.name)
        if scenario.relevo_only and not peer.name.startswith("relevo"):
            outcome.skipped = "relevo only"
            return outcome
        outcome.load_before = wait_until_quiet(_QUIET, 3.0 if self.args.quick else 120.0)
        if outcome.load_before >= _QUIET:
            _log(f"machine busy ({outcome.load_before:.2f} cores of other work): measuring anyway")
        port = self.ports.take()
        launch = peer.launch(self.ctx, port)
        base = self.run_dir / f"{scenario.name}-{peer.name}"
        try:
            with running_server(
                launch.argv,
                port=port,
                log=base.with_suffix(".server.log"),
                cwd=launch.cwd,
                env=launch.env,
                nice=self.args.nice,
                cpus=peer.cpus or SERVER_CPU,
            ) as server:
                time.sleep(_SETTLE)
                pids = _server_pids(peer, server.pids())
                argv = pinned(
                    GENERATOR_CPU,
                    _loadgen_argv(self.loadgen, peer, scenario, port, pids, self.args.quick),
                    self.args.nice,
                )
                (base.with_suffix(".cmd")).write_text(shlex.join(argv) + "\n")
                profiled = scenario.mode in ("publish", "storm")  # S1, S2, S4
                if self.args.profile and peer.name == "relevo" and profiled:
                    done = self._profiled(argv, scenario, server.process.pid, base)
                else:
                    done = self._generate(argv, scenario)
                if not server.alive():
                    outcome.error = f"server exited: {server.log_tail(3)}"
        except ServerFailed as exc:
            outcome.error = f"server did not start: {exc}"
            return outcome
        except subprocess.TimeoutExpired:
            outcome.error = "generator timed out"
            return outcome
        base.with_suffix(".loadgen.log").write_text(done.stderr)
        base.with_suffix(".jsonl").write_text(done.stdout)
        for line in done.stdout.splitlines():
            if not line.strip():
                continue
            try:
                outcome.records.append(decode_line(line))
            except msgspec.ValidationError as exc:
                outcome.error = f"unreadable generator output ({exc}): {line[:200]}"
        if done.returncode not in (0, 1) and not outcome.failures():
            outcome.error = f"generator exited with {done.returncode}: {done.stderr[-300:]}"
        return outcome

    def _generate(self, argv: list[str], scenario: Scenario) -> subprocess.CompletedProcess[str]:
        timeout = scenario.size(self.args.quick).timeout
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)

    def _profiled(
        self, argv: list[str], scenario: Scenario, pid: int, base: Path
    ) -> subprocess.CompletedProcess[str]:
        py_spy = self.paths.deps / "venv" / "bin" / "py-spy"
        if not py_spy.exists():
            _log("--profile: py-spy not installed (run bench/install-peers.sh); not profiling")
            return self._generate(argv, scenario)
        raw = base.with_suffix(".pyspy.txt")
        with py_spy_recording(py_spy, pid, raw, base.with_suffix(".pyspy.log")):
            done = self._generate(argv, scenario)
        if raw.exists():
            table = summarise(raw).table()
            base.with_suffix(".profile.txt").write_text(table)
            _log(f"profile of relevo during {scenario.name} ({raw}):\n{table}")
        return done


def _summary(outcome: Outcome) -> str:
    if outcome.skipped:
        return f"skipped ({outcome.skipped})"
    failures = outcome.failures()
    if failures:
        return "FAILED: " + failures[0][:200]
    steps = outcome.steps()
    if steps:
        return ", ".join(
            f"{s.rate}/s {'ok' if s.passed else 'x'} p99 {s.latency_ms.p99:.1f}ms lost {s.lost}"
            for s in steps
        )
    return "done"


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds through running_server(), which stops the server
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    """``relevo bench [args]``; returns the exit status."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        peers = select_peers(args.peers)
        scenarios = select_scenarios(args.scenarios)
    except ValueError as exc:
        print(f"relevo bench: {exc}", file=sys.stderr)
        return 2
    paths = find_paths()
    _raise_open_files_limit()
    started = datetime.now(UTC)
    run_dir = paths.results / (started.strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else ""))
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        _ensure_peers_installed(paths, peers, allow=not args.no_install)
        run = _Run(args, paths, run_dir)
        gcc = compiler_version()
    except BuildError as exc:
        print(f"relevo bench: {exc}", file=sys.stderr)
        return 2

    outcomes: dict[tuple[str, str], Outcome] = {}
    for scenario in scenarios:
        for peer in peers:
            _log(f"{scenario.name} {peer.name} ...")
            outcome = run.one(peer, scenario)
            outcomes[(peer.name, scenario.name)] = outcome
            _log(f"{scenario.name} {peer.name}: {_summary(outcome)}")

    dump = json.dumps(msgspec.to_builtins(list(outcomes.values())), indent=1)
    (run_dir / "results.json").write_text(dump)
    if args.json:
        Path(args.json).write_text(dump)

    info = RunInfo(
        started=started,
        command=shlex.join(["relevo", "bench", *argv]),
        quick=args.quick,
        nice=args.nice if os.geteuid() == 0 or args.nice > 0 else 0,
        results_dir=_display(run_dir, paths.root),
        machine=describe_machine(paths.root, paths.deps, gcc),
        peers=peers,
        scenarios=scenarios,
    )
    out = Path(args.out) if args.out else paths.root / "docs" / "benchmarks.md"
    block = render_run(info, outcomes)
    write_report(out, block)
    print(block)
    _log(f"results added to {out}")
    return 0


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
