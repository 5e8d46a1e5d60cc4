"""The load generator's JSON lines as typed records, the outcome of one
server in one scenario, and the figures the report derives from them."""

from __future__ import annotations

from typing import TypeVar

import msgspec

__all__ = [
    "Failure",
    "Idle",
    "Latency",
    "Outcome",
    "PublishStep",
    "Record",
    "Recovery",
    "Setup",
    "Storm",
    "decode_line",
    "sustainable_step",
]


class Latency(msgspec.Struct, frozen=True):
    """Milliseconds, from the generator's log-linear histogram (~3% buckets)."""

    n: int
    p50: float
    p90: float
    p99: float
    p999: float
    max: float


class Setup(msgspec.Struct, frozen=True, tag_field="mode", tag="setup"):
    label: str
    subs: int
    subscribed: int
    failed: int
    secs: float


class PublishStep(msgspec.Struct, frozen=True, tag_field="mode", tag="publish", kw_only=True):
    label: str
    step: int
    rate: int
    rooms: int
    subs: int
    window_secs: float
    wall_secs: float
    sent: int
    achieved_rate: float
    expected: int
    received: int
    lost: int
    dups: int
    late: int
    disconnects: int
    pub_errors: int
    server_cpu_s: float
    server_sys_s: float = 0.0  # the kernel's part of server_cpu_s (syscalls)
    server_cpu: float
    gen_cpu: float
    other_cpu: float = 0.0  # CPU of other processes on the machine, in cores
    deliveries_per_cpu_s: float
    passed: bool = msgspec.field(name="pass")
    latency_ms: Latency


class Idle(msgspec.Struct, frozen=True, tag_field="mode", tag="idle"):
    label: str
    conns: int
    measured: int
    failed: int
    rss_before_kib: int
    rss_after_kib: int
    per_conn_kib: float
    connect_secs: float
    server_cpu_s: float


class Storm(msgspec.Struct, frozen=True, tag_field="mode", tag="storm"):
    label: str
    clients: int
    confirmed: int
    failed: int
    secs: float
    server_cpu_s: float
    gen_cpu: float
    confirm_ms: Latency
    other_cpu: float = 0.0


class Recovery(msgspec.Struct, frozen=True, tag_field="mode", tag="recovery"):
    label: str
    clients: int
    confirmed: int
    failed: int
    secs: float
    server_cpu_s: float
    gen_cpu: float
    missed_each: int
    recovered: int
    not_recovered: int
    lost: int
    first_subscribed: int
    confirm_ms: Latency
    other_cpu: float = 0.0


class Failure(msgspec.Struct, frozen=True, tag_field="mode", tag="error"):
    label: str
    error: str


Record = Setup | PublishStep | Idle | Storm | Recovery | Failure

_decoder: msgspec.json.Decoder[Record] = msgspec.json.Decoder(Record)


def decode_line(line: str | bytes) -> Record:
    return _decoder.decode(line)


_R = TypeVar("_R", Idle, Storm, Recovery)


class Outcome(msgspec.Struct, kw_only=True):
    """One server in one scenario."""

    peer: str
    scenario: str
    records: list[Record] = msgspec.field(default_factory=list)
    error: str | None = None  # why the run did not complete, if it did not
    skipped: str | None = None  # why it was not run (e.g. relevo-only scenario)
    load_before: float = 0.0  # cores other processes used just before the server started

    def noise(self) -> float:
        """The most CPU (in cores) other processes used during a measurement."""
        values = [
            r.other_cpu for r in self.records if isinstance(r, PublishStep | Storm | Recovery)
        ]
        return max([self.load_before, *values])

    def steps(self) -> list[PublishStep]:
        return [r for r in self.records if isinstance(r, PublishStep)]

    def first(self, kind: type[_R]) -> _R | None:
        return next((r for r in self.records if isinstance(r, kind)), None)

    def failures(self) -> list[str]:
        out = [r.error for r in self.records if isinstance(r, Failure)]
        return out + ([self.error] if self.error else [])


def sustainable_step(steps: list[PublishStep]) -> PublishStep | None:
    """S1's rule: the highest-rate step with zero loss, p99 under the limit and
    >= 95% of the target rate achieved (the generator marks it ``pass``)."""
    passing = [s for s in steps if s.passed]
    return max(passing, key=lambda s: s.rate, default=None)
