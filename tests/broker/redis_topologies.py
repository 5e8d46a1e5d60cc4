"""Real Redis topologies a test starts and kills: a primary with a replica
watched by three sentinels, and a Cluster of three primaries. Every process
listens on 127.0.0.1 on a free port, keeps its files in a temporary folder,
persists nothing (``--save "" --appendonly no``) and is SIGKILLed at
teardown."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tests.broker.broker_fixtures import free_port
from tests.helpers import timeout

SERVICE = "mymaster"
STARTUP = timeout(30.0)


def _wait(what: str, check: Callable[[], bool], within: float = STARTUP) -> None:
    """Poll ``check`` until true: these processes have no event to await."""
    deadline = time.monotonic() + within
    while True:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {within:g} s")
        time.sleep(0.05)


class _Processes:
    def __init__(self, name: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"relevo-{name}-"))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def server(self, port: int, *args: str) -> None:
        self.procs[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--dir", str(self.dir), "--save", "", "--appendonly", "no", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def kill(self, port: int) -> None:
        proc = self.procs.pop(port, None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def pause(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGSTOP)

    def resume(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for port in list(self.procs):
            self.kill(port)
        shutil.rmtree(self.dir, ignore_errors=True)


def _client(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)


class SentinelSetup(_Processes):
    """A primary, a replica and three sentinels (quorum 2) for ``mymaster``."""

    def __init__(self) -> None:
        super().__init__("sentinel")
        self.primary = free_port()
        self.replica = free_port()
        self.sentinels = [free_port() for _ in range(3)]

    def url(self, prefix: str) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}?prefix={prefix}"

    def start(self) -> SentinelSetup:
        self.server(self.primary)
        self.server(self.replica, "--replicaof", "127.0.0.1", str(self.primary))
        _wait("replica in sync", lambda: self._link_up(self.replica))
        for port in self.sentinels:
            conf = self.dir / f"sentinel-{port}.conf"
            conf.write_text(
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 4000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
            )
            self.procs[port] = subprocess.Popen(
                ["redis-server", str(conf), "--sentinel", "--port", str(port),
                 "--bind", "127.0.0.1", "--dir", str(self.dir)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        for port in self.sentinels:
            _wait(f"sentinel {port} sees the others", lambda p=port: self._sentinel_ready(p))
        return self

    def _link_up(self, port: int) -> bool:
        info = _client(port).info("replication")
        return info.get("master_link_status") == "up"

    def _sentinel_ready(self, port: int) -> bool:
        master = _client(port).sentinel_master(SERVICE)
        return int(master["num-other-sentinels"]) == 2 and int(master["num-slaves"]) == 1

    def cut_replication(self) -> None:
        """From now on the replica gets nothing of what the primary takes:
        the replica is stopped (SIGSTOP) and the primary drops its link, so
        what is written next exists on the primary alone (as when replication
        lags). ``resume(self.replica)`` lets it run again, still behind."""
        self.pause(self.replica)
        _client(self.primary_port()).execute_command("CLIENT", "KILL", "TYPE", "replica")

    def primary_port(self) -> int:
        addr = _client(self.sentinels[0]).execute_command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE
        )
        return int(addr[1])

    def kill_primary(self) -> int:
        """SIGKILL the current primary; its port."""
        port = self.primary_port()
        self.kill(port)
        return port

    def wait_failover(self, old: int) -> int:
        """Until every sentinel names a new primary and it takes writes; its port."""
        _wait(
            "failover",
            lambda: all(self._names_new(s, old) for s in self.sentinels),
        )
        port = self.primary_port()
        _wait("new primary", lambda: _client(port).info("replication")["role"] == "master")
        return port

    def _names_new(self, sentinel: int, old: int) -> bool:
        addr = _client(sentinel).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        return int(addr[1]) != old


class ClusterSetup(_Processes):
    """Three primaries sharing the 16384 slots (no replicas)."""

    def __init__(self) -> None:
        super().__init__("cluster")
        self.ports = [free_port() for _ in range(3)]

    def url(self, prefix: str, seed: int = 0) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[seed]}?prefix={prefix}"

    def start(self) -> ClusterSetup:
        for port in self.ports:
            self.server(port, "--cluster-enabled", "yes",
                        "--cluster-config-file", f"nodes-{port}.conf",
                        "--cluster-node-timeout", "2000",
                        # The bus port, else port + 10000 (which may be taken or above 65535).
                        "--cluster-port", str(free_port()))  # fmt: skip
        for port in self.ports:
            _wait(f"cluster node {port}", lambda p=port: bool(_client(p).ping()))
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
             "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=STARTUP,
        )  # fmt: skip
        for port in self.ports:
            _wait(f"cluster state on {port}", lambda p=port: self._ok(p))
        return self

    def _ok(self, port: int) -> bool:
        info = _client(port).execute_command("CLUSTER", "INFO")
        text = info.decode() if isinstance(info, bytes) else str(info)
        return "cluster_state:ok" in text and "cluster_known_nodes:3" in text

    def node_id(self, port: int) -> str:
        return str(_client(port).execute_command("CLUSTER", "MYID").decode())

    def owner(self, slot: int) -> int:
        """The port of the primary serving ``slot``."""
        for start, end, primary, *_ in _client(self.ports[0]).execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return int(primary[1])
        raise LookupError(slot)

    def move_slot(self, slot: int, to: int) -> None:
        """Migrate ``slot`` with its keys to the node on port ``to``, the way
        ``redis-cli --cluster reshard`` does: IMPORTING/MIGRATING, MIGRATE
        the keys, then SETSLOT NODE everywhere. Clients see ASK then MOVED."""
        source = self.owner(slot)
        src, dst = _client(source), _client(to)
        src_id, dst_id = self.node_id(source), self.node_id(to)
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
        while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
            src.execute_command("MIGRATE", "127.0.0.1", to, "", 0, 5000, "KEYS", *keys)
        for port in (to, source, *[p for p in self.ports if p not in (to, source)]):
            _client(port).execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
        _wait("slot moved everywhere", lambda: self.owner(slot) == to)
