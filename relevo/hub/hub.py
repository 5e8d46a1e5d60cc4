"""The hub: sessions, the channel index, and the fan-out path.

A publication reaches :meth:`Hub.on_publication` once per node. It is encoded
once — to JSON, then to one WebSocket frame — and the same bytes are written
to every subscriber's socket. Nothing in that loop awaits, so a subscriber
that does not drain cannot hold the others back: its transport's buffer grows
to ``max_outbound_bytes`` and it is disconnected with ``slow_consumer``.

Frames for a channel are written at the end of the event-loop pass in which
they arrived: when several arrive in one pass (a burst, a Redis read holding
many messages, a server that fell behind), every subscriber gets them joined
in one write — one syscall instead of one per frame. The joined bytes are
still built once per channel and shared by all its subscribers.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from relevo.broker.base import Broker
from relevo.hub.auth import Identity, TokenVerifier
from relevo.hub.metrics import HubMetrics
from relevo.hub.permissions import Permissions, namespace_of
from relevo.hub.session import Session, SessionState, Transport
from relevo.protocol import frames
from relevo.protocol.errors import (
    AuthError,
    DisconnectCode,
    ErrorCode,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RelevoError,
    Unavailable,
)
from relevo.protocol.recovery import is_recovered, merge_buffered
from relevo.protocol.types import ClientInfo, Publication, StreamPosition
from relevo.protocol.ws import text_frame
from relevo.settings import Settings

__all__ = ["Hub"]

log = logging.getLogger("relevo.hub")

CONTROL_CHANNEL = "$control"
#: Publishers whose channels are not checked against the namespaces: the
#: records relay publishes committed outbox rows, and refusing one would wedge
#: the outbox behind it (a kind's channels are checked when it is registered).
_UNCHECKED_SOURCES = frozenset({"records"})
_MAX_TIMER = 86400.0
UserListener = Callable[[str], Awaitable[None] | None]


class _Channel:
    __slots__ = (
        "catching",
        "failed",
        "fed",
        "name",
        "others",
        "outbox",
        "ready",
        "recovering",
        "writers",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.writers: dict[Session, Callable[[bytes], None]] = {}
        #: Frames for ``writers`` not written yet: they go out, joined, at the
        #: end of the current event-loop pass (:meth:`Hub._flush`).
        self.outbox: list[bytes] = []
        self.others: dict[Session, Transport] = {}
        self.recovering: dict[Session, list[Publication]] = {}
        #: Subscribed sessions whose reply (history or position) ran ahead of
        #: this node's feed: each waits, with the offset it has seen, for the
        #: feed to pass it, so the feed's late copies are never repeated.
        self.catching: dict[Session, StreamPosition] = {}
        #: The last publication the feed delivered here.
        self.fed: StreamPosition | None = None
        self.ready: asyncio.Event | None = asyncio.Event()
        self.failed = False

    def empty(self) -> bool:
        return not (self.writers or self.others or self.recovering or self.catching)


class Hub:
    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.now = clock
        self.permissions = Permissions(settings.namespaces)
        self.verifier = TokenVerifier(settings.auth)
        self.metrics = HubMetrics()
        self.node = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._channels: dict[str, _Channel] = {}
        #: Broker unsubscribes in flight, by channel: a new subscribe to the
        #: channel waits for its one, or the old unsubscribe would land after
        #: the new subscribe and leave the new subscribers deaf.
        self._unsubscribing: dict[str, asyncio.Task[None]] = {}
        self._dirty: list[_Channel] = []  # channels with an outbox to flush
        self._sessions: set[Session] = set()
        self._users: dict[str, set[Session]] = {}
        self._leave_listeners: list[UserListener] = []
        self._join_listeners: list[UserListener] = []
        self._tick_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._json = msgspec.json.Encoder()
        #: The last errors and server-side disconnects, newest last, for the admin page.
        self.recent_errors: deque[dict[str, Any]] = deque(maxlen=200)

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.start(self)
        self._tick_task = asyncio.get_running_loop().create_task(self._tick())

    async def close(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
            self._tick_task = None
        for session in list(self._sessions):
            self.disconnect(session, DisconnectCode.SHUTDOWN, "server is shutting down")
        if self._background:
            # Let presence leaves and broker unsubscribes finish, briefly.
            await asyncio.wait(set(self._background), timeout=2.0)
        for task in list(self._background):
            task.cancel()
        await self.broker.close()

    @property
    def sessions(self) -> frozenset[Session]:
        return frozenset(self._sessions)

    def channel_names(self) -> list[str]:
        return list(self._channels)

    def subscriber_count(self, channel: str) -> int:
        chan = self._channels.get(channel)
        return 0 if chan is None else len(chan.writers) + len(chan.others) + len(chan.catching)

    def add_leave_listener(self, listener: UserListener) -> None:
        """Call ``listener(user)`` when a user's last connection on this node goes."""
        self._leave_listeners.append(listener)

    def add_join_listener(self, listener: UserListener) -> None:
        """Call ``listener(user)`` when a user's first connection on this node
        authenticates (the counterpart of :meth:`add_leave_listener`)."""
        self._join_listeners.append(listener)

    def user_online(self, user: str) -> bool:
        return bool(self._users.get(user))

    # -- sessions -------------------------------------------------------------

    def open_session(self, transport: Transport) -> Session:
        session = Session(self, transport, f"{self.node}-{next(self._ids)}", self.now())
        self._sessions.add(session)
        self.metrics.child(self.metrics.connections, transport.kind).inc()
        return session

    def close_session(self, session: Session) -> None:
        """The transport is gone (closed, broken or dead): forget the session."""
        if session.closed:
            return
        session.set_state(SessionState.CLOSED)
        self._sessions.discard(session)
        self.metrics.child(self.metrics.connections, session.transport.kind).dec()
        if session.expire_handle is not None:
            session.expire_handle.cancel()
        if session.runner is not None:
            session.runner.cancel()
        for ch in list(session.subs):
            self._detach(session, ch)
        user = session.identity.user
        if user:
            sessions = self._users.get(user)
            if sessions is not None:
                sessions.discard(session)
                if not sessions:
                    del self._users[user]
                    self._notify(self._leave_listeners, user)

    def disconnect(self, session: Session, code: DisconnectCode, message: str = "") -> None:
        if session.closed:
            return
        from relevo.protocol.errors import RECONNECT

        self.metrics.child(self.metrics.disconnects, str(code)).inc()
        self._remember(session, f"disconnect:{code}", message)
        session.transport.close(str(code), RECONNECT[code], message)
        self.close_session(session)

    def _notify(self, listeners: list[UserListener], user: str) -> None:
        for listener in listeners:
            result = listener(user)
            if result is not None:
                self._spawn(result)

    def flooded(self, session: Session) -> None:
        self.disconnect(session, DisconnectCode.RATE_LIMITED, "too many commands")

    def authenticate(self, session: Session, token: str) -> Identity:
        identity = self.verifier.verify(token)
        self._set_identity(session, identity)
        return identity

    def _set_identity(self, session: Session, identity: Identity) -> None:
        if session.state is SessionState.OPEN:
            session.set_state(SessionState.CONNECTED)
        session.identity = identity
        self._arm_expiry(session)
        if not identity.user:
            return  # never indexed: close_session only forgets named users
        sessions = self._users.setdefault(identity.user, set())
        first = not sessions
        sessions.add(session)
        if first:
            self._notify(self._join_listeners, identity.user)

    def _arm_expiry(self, session: Session) -> None:
        if session.expire_handle is not None:
            session.expire_handle.cancel()
            session.expire_handle = None
        exp = session.identity.expires
        if exp is None:
            return
        # Capped: a far-off exp re-arms later instead of overflowing the loop's timer.
        delay = min(_MAX_TIMER, max(0.0, exp + self.settings.auth.leeway - time.time()))
        session.expire_handle = asyncio.get_running_loop().call_later(delay, self._expire, session)

    def _expire(self, session: Session) -> None:
        session.expire_handle = None
        exp = session.identity.expires
        if exp is not None and exp + self.settings.auth.leeway <= time.time() + 0.001:
            self.disconnect(session, DisconnectCode.TOKEN_EXPIRED, "token expired; refresh it")
        else:
            self._arm_expiry(session)

    # -- commands ---------------------------------------------------------------

    async def handle_frame(self, session: Session, text: bytes) -> None:
        frame_id: int | str | None = None
        try:
            if not session.take_token(self.now()):
                session.strikes += 1
                if session.strikes > self.settings.limits.command_burst:
                    self.flooded(session)
                    return
                raise LimitExceeded("too many commands; slow down", code=ErrorCode.RATE_LIMITED)
            cmd = frames.parse_command(text)
            frame_id = cmd.id
            self.metrics.child(self.metrics.commands, str(cmd.__struct_config__.tag)).inc()
            await self._dispatch(session, cmd)
        except RelevoError as exc:
            if frame_id is None:
                frame_id = exc.frame_id
            self.send_error(session, frame_id, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("internal error handling a frame from %s", session.client)
            self.send_error(session, frame_id, RelevoError("internal error"))

    def send_error(self, session: Session, frame_id: int | str | None, exc: RelevoError) -> None:
        if session.closed:
            return
        self.metrics.child(self.metrics.errors, str(exc.code)).inc()
        self._remember(session, str(exc.code), exc.message)
        session.transport.send(frames.encode_error(frame_id, exc))

    def _remember(self, session: Session, code: str, message: str) -> None:
        self.recent_errors.append(
            {
                "ts": time.time(),
                "client": session.client,
                "user": session.identity.user,
                "code": code,
                "message": message,
            }
        )

    async def _dispatch(self, session: Session, cmd: frames.Command) -> None:
        if isinstance(cmd, frames.Ping):
            session.transport.send(frames.encode_pong(cmd.id))
        elif isinstance(cmd, frames.Sub):
            await self.subscribe(session, cmd.ch, _since(cmd.since), cmd.id)
        elif isinstance(cmd, frames.Unsub):
            self.unsubscribe(session, cmd.ch)
            session.transport.send(frames.encode_ok(cmd.id, {}))
        elif isinstance(cmd, frames.Pub):
            self.permissions.check_publish(session.identity, cmd.ch)
            data = bytes(cmd.data)
            if len(data) > self.settings.limits.max_publish_bytes:
                raise LimitExceeded("data is too large", code=ErrorCode.TOO_LARGE)
            pub = await self.publish(cmd.ch, cmd.ev, data, source="client")
            session.transport.send(
                frames.encode_ok(cmd.id, {"epoch": pub.epoch, "offset": pub.offset})
            )
        elif isinstance(cmd, frames.History):
            self.permissions.check_subscribe(session.identity, cmd.ch)
            pubs, pos = await self.history(cmd.ch, _since(cmd.since), cmd.limit)
            session.transport.send(frames.encode_ok(cmd.id, frames.history_result(pos, pubs)))
        elif isinstance(cmd, frames.Presence):
            self.permissions.check_presence(session.identity, cmd.ch)
            clients = await self.presence(cmd.ch)
            session.transport.send(frames.encode_ok(cmd.id, frames.presence_result(clients)))
        elif isinstance(cmd, frames.Connect):
            if session.state is not SessionState.OPEN:
                raise ProtocolError("already connected")
            if cmd.token is None:
                raise AuthError("token is required")
            identity = self.authenticate(session, cmd.token)
            result = {"client": session.client, "user": identity.user, "expires": identity.expires}
            session.transport.send(frames.encode_ok(cmd.id, result))
        elif isinstance(cmd, frames.Refresh):
            self.refresh(session, cmd.token)
            session.transport.send(frames.encode_ok(cmd.id, {"expires": session.identity.expires}))

    def refresh(self, session: Session, token: str) -> None:
        """Swap the session's token. The new token is the only authority from
        now on: each subscription it does not allow is dropped, with an
        ``unsub`` push saying why. A token for another user is refused and the
        session keeps its identity (switching users is a new connection)."""
        identity = self.verifier.verify(token)
        old = session.identity.user
        if old and identity.user != old:
            raise PermissionDenied(
                f"a refresh token must be for the same user ({old}); connect again to switch"
            )
        if session.state is SessionState.OPEN:
            self._set_identity(session, identity)
        else:
            session.identity = identity
            self._arm_expiry(session)
        for channel in sorted(session.subs):
            try:
                self.permissions.check_subscribe(identity, channel)
            except PermissionDenied as exc:
                self.drop_subscription(session, channel, exc)

    def drop_subscription(self, session: Session, channel: str, why: RelevoError) -> None:
        """End a subscription the client did not ask to end, and tell it:
        ``{"op":"unsub","ch":...,"code":...,"message":...}``."""
        chan = self._channels.get(channel)
        if chan is not None:
            self._flush_channel(chan)  # what was published while it was allowed
        self._detach(session, channel)
        self._remember(session, f"unsub:{why.code}", f"{channel}: {why.message}")
        session.transport.send(
            self._json.encode(
                {"op": "unsub", "ch": channel, "code": str(why.code), "message": why.message}
            )
        )

    # -- subscriptions ------------------------------------------------------------

    async def subscribe(
        self,
        session: Session,
        channel: str,
        since: StreamPosition | None,
        frame_id: int | str | None = None,
    ) -> None:
        """Subscribe and reply. The reply is written only once the channel's
        feed is attached, so nothing published after it can be missed; whatever
        arrives while history is read is buffered and merged, never duplicated."""
        self.permissions.check_subscribe(session.identity, channel)
        if channel in session.subs:
            raise ProtocolError(f"already subscribed to {channel}")
        if len(session.subs) >= self.settings.limits.max_subscriptions:
            raise LimitExceeded("too many subscriptions on this connection")
        options = self.permissions.history_options(channel)
        session.subs.add(channel)
        try:
            chan = await self._attach_channel(channel)
            buffered: list[Publication] = []
            chan.recovering[session] = buffered
            try:
                missed: list[Publication] = []
                recovered: bool | None = None
                if since is not None:
                    res = await self.broker.history(channel, since, max(options.size, 1), options)
                    position = res.position
                    recovered = is_recovered(since, position, res.publications)
                    missed = res.publications if recovered else []
                    self.metrics.child(self.metrics.recoveries, str(recovered).lower()).inc()
                else:
                    position = await self.broker.position(channel, options)
            finally:
                still = chan.recovering.pop(session, None) is not None
        except BaseException:
            session.subs.discard(channel)
            self._drop_if_empty(channel)
            raise
        if not still or session.closed or channel not in session.subs:
            # Unsubscribed or closed meanwhile: its detach ran while the channel
            # was still attaching, so dropping the channel falls to us.
            self._drop_if_empty(channel)
            return
        # Frames still in the outbox are of publications at or before
        # ``position`` (or in ``buffered``): they are not for this session.
        self._flush_channel(chan)
        session.transport.subscribed(frame_id, channel, position, recovered, missed)
        seen = position
        for pub in merge_buffered(position.offset, buffered):
            session.transport.deliver(pub, frames.publication_json(pub))
            seen = StreamPosition(position.epoch, pub.offset)
        if _passed(chan.fed, seen):
            self._go_live(chan, session)
        else:
            chan.catching[session] = seen
        self.metrics.subscriptions.inc()
        if self.permissions.join_leave(channel) and session.identity.user:
            await self._join(session, channel)

    async def _attach_channel(self, channel: str) -> _Channel:
        chan = self._channels.get(channel)
        if chan is None:
            chan = self._channels[channel] = _Channel(channel)
            self.metrics.channels.set(len(self._channels))
            ready = chan.ready
            try:
                leaving = self._unsubscribing.get(channel)
                if leaving is not None:
                    await asyncio.wait([leaving])  # its errors are its own (logged)
                await self.broker.subscribe(channel)
            except BaseException:
                chan.failed = True
                if self._channels.get(channel) is chan:
                    del self._channels[channel]
                    self.metrics.channels.set(len(self._channels))
                raise
            finally:
                chan.ready = None
                if ready is not None:
                    ready.set()
        elif chan.ready is not None:
            await chan.ready.wait()
            if chan.failed:
                raise Unavailable(f"could not subscribe to {channel}")
        return chan

    def _go_live(self, chan: _Channel, session: Session) -> None:
        writer = session.transport.raw_writer()
        if writer is not None:
            chan.writers[session] = writer
        else:
            chan.others[session] = session.transport

    def _catch_up(self, chan: _Channel, pub: Publication) -> None:
        """Sessions whose reply ran ahead of the feed join it once the feed
        passes what they have seen; until then its copies are repeats."""
        for session, seen in list(chan.catching.items()):
            if pub.epoch and seen.epoch and pub.epoch != seen.epoch:
                # The stream was reset under them: only a resubscribe tells them.
                del chan.catching[session]
                self.disconnect(session, DisconnectCode.RESUBSCRIBE, "the channel's stream reset")
            elif pub.offset > seen.offset:
                del chan.catching[session]
                self._flush_channel(chan)  # what is queued is at or before ``seen``
                self._go_live(chan, session)

    def unsubscribe(self, session: Session, channel: str) -> None:
        if channel not in session.subs:
            raise ProtocolError(f"not subscribed to {channel}")
        chan = self._channels.get(channel)
        if chan is not None:
            self._flush_channel(chan)  # what was published before the unsubscribe
        self._detach(session, channel)

    def _detach(self, session: Session, channel: str) -> None:
        session.subs.discard(channel)
        chan = self._channels.get(channel)
        if chan is None:
            return
        was_live = chan.writers.pop(session, None) is not None
        was_live = chan.others.pop(session, None) is not None or was_live
        was_live = chan.catching.pop(session, None) is not None or was_live
        chan.recovering.pop(session, None)
        if was_live:
            self.metrics.subscriptions.dec()
            if self.permissions.join_leave(channel) and session.identity.user:
                self._spawn(self._leave(session, channel))
        self._drop_if_empty(channel)

    def _drop_if_empty(self, channel: str) -> None:
        chan = self._channels.get(channel)
        if chan is not None and chan.empty() and chan.ready is None:
            del self._channels[channel]
            self.metrics.channels.set(len(self._channels))
            task = self._spawn(self.broker.unsubscribe(channel))
            self._unsubscribing[channel] = task

            def forget(t: asyncio.Task[None]) -> None:
                if self._unsubscribing.get(channel) is t:
                    del self._unsubscribing[channel]

            task.add_done_callback(forget)

    # -- presence -----------------------------------------------------------------

    def _client_info(self, session: Session) -> ClientInfo:
        return ClientInfo(
            session.client, session.identity.user, {"transport": session.transport.kind}
        )

    async def _join(self, session: Session, channel: str) -> None:
        info = self._client_info(session)
        await self.broker.add_presence(channel, info, self.settings.liveness.presence_ttl)
        data = self._json.encode({"user": info.user, "client": info.client})
        await self.broker.publish_push(channel, "$join", data)

    async def _leave(self, session: Session, channel: str) -> None:
        await self.broker.remove_presence(channel, session.client)
        data = self._json.encode({"user": session.identity.user, "client": session.client})
        await self.broker.publish_push(channel, "$leave", data)

    async def presence(self, channel: str) -> list[ClientInfo]:
        return await self.broker.presence(channel)

    # -- publishing (server API and client pub) ---------------------------------

    async def publish(
        self,
        channel: str,
        event: str,
        data: bytes,
        source: str = "api",
        *,
        idempotency_key: str | None = None,
    ) -> Publication:
        """Publish on ``channel``. ``source`` names the publisher for the
        metrics; all but the records relay must name a configured namespace."""
        if source in _UNCHECKED_SOURCES:
            frames.validate_channel(channel)
        else:
            self.check_publishable(channel)
        options = self.permissions.history_options(channel)
        pub = await self.broker.publish(
            channel, event, data, options, idempotency_key=idempotency_key
        )
        self.metrics.child(self.metrics.published, source).inc()
        return pub

    def check_publishable(self, channel: str) -> None:
        """Refuse a channel no client could ever receive: a typo in a backend
        must fail loudly, not be stored and lost."""
        frames.validate_channel(channel)
        if self.permissions.namespace(channel) is None:
            ns = namespace_of(channel)
            raise NotFound(
                f"unknown namespace {ns}: no [namespaces.{ns}] is configured, "
                f"so nobody could subscribe to {channel}"
            )

    async def history(
        self, channel: str, since: StreamPosition | None, limit: int
    ) -> tuple[list[Publication], StreamPosition]:
        frames.validate_channel(channel)
        options = self.permissions.history_options(channel)
        res = await self.broker.history(channel, since, limit, options)
        return res.publications, res.position

    async def disconnect_user(self, user: str) -> None:
        """Close every connection of ``user`` on every node."""
        await self.broker.publish_push(
            CONTROL_CHANNEL, "disconnect", self._json.encode({"user": user})
        )

    # -- broker callbacks: the fan-out path ----------------------------------------

    def on_publication(self, pub: Publication) -> None:
        chan = self._channels.get(pub.channel)
        if chan is None:
            return
        for buffered in chan.recovering.values():
            buffered.append(pub)
        if chan.catching:
            self._catch_up(chan, pub)
        chan.fed = pub.position
        payload = frames.publication_json(pub)
        writers = chan.writers
        if writers:
            self._queue(chan, text_frame(payload))
        for transport in chan.others.values():
            transport.deliver(pub, payload)
        self.metrics.publications.inc()
        self.metrics.deliveries.inc(len(writers) + len(chan.others))

    def on_push(self, channel: str, event: str, data: bytes) -> None:
        if channel == CONTROL_CHANNEL:
            self._on_control(event, data)
            return
        chan = self._channels.get(channel)
        if chan is None:
            return
        payload = frames.encode_push(channel, event, msgspec.Raw(data))
        if chan.writers:
            self._queue(chan, text_frame(payload))
        for transport in chan.others.values():
            transport.send(payload)
        for session in chan.catching:  # a push has no offset to repeat: theirs at once
            session.transport.send(payload)

    def _queue(self, chan: _Channel, frame: bytes) -> None:
        if not chan.outbox:
            if not self._dirty:
                asyncio.get_running_loop().call_soon(self._flush)
            self._dirty.append(chan)
        chan.outbox.append(frame)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for chan in dirty:
            self._flush_channel(chan)

    def _flush_channel(self, chan: _Channel) -> None:
        """Write the channel's pending frames: joined once, the same bytes to
        every subscriber, one write each."""
        outbox = chan.outbox
        if not outbox:
            return
        chan.outbox = []
        frame = outbox[0] if len(outbox) == 1 else b"".join(outbox)
        broken: list[Callable[[bytes], None]] = []
        for write in chan.writers.values():
            try:
                write(frame)
            except Exception:  # a transport that broke under us (free when nothing raises)
                broken.append(write)
        if broken:
            self._drop_broken(chan, broken)

    def _drop_broken(self, chan: _Channel, broken: list[Callable[[bytes], None]]) -> None:
        """Sessions whose write raised missed a frame: they must reconnect and
        recover, never stay subscribed with a silent gap."""
        for session, write in list(chan.writers.items()):
            if write in broken:
                log.warning("write to %s failed; disconnecting it", session.client)
                self.disconnect(session, DisconnectCode.RESUBSCRIBE, "a write failed; resubscribe")

    def on_gap(self, channel: str) -> None:
        # Reconnecting makes every client subscribe with ``since``: it then gets
        # exactly what it missed, or ``recovered: false``. Never a silent gap.
        chan = self._channels.get(channel)
        if chan is None:
            return
        for session in [*chan.writers, *chan.others, *chan.recovering]:
            self.disconnect(
                session, DisconnectCode.RESUBSCRIBE, f"feed of {channel} was interrupted"
            )

    def _on_control(self, event: str, data: bytes) -> None:
        if event == "disconnect":
            user = msgspec.json.decode(data).get("user")
            for session in list(self._users.get(str(user), ())):
                self.disconnect(session, DisconnectCode.FORCED, "disconnected by the server")

    # -- liveness -------------------------------------------------------------------

    async def _tick(self) -> None:
        live = self.settings.liveness
        step = max(0.2, min(live.ping_interval, live.pong_timeout) / 4)
        while True:
            await asyncio.sleep(step)
            try:
                await self.sweep()
            except Exception:
                log.exception("liveness sweep failed")

    async def sweep(self) -> None:
        """Ping idle peers, close dead ones, refresh presence."""
        live = self.settings.liveness
        now = self.now()
        refresh: list[tuple[str, ClientInfo]] = []
        for session in list(self._sessions):
            if now - session.last_seen > live.ping_interval + live.pong_timeout:
                self.disconnect(session, DisconnectCode.NO_PONG, "no pong in time")
                continue
            if now - session.last_ping >= live.ping_interval:
                session.last_ping = now
                session.transport.ping()
            if session.identity.user and now - session.presence_refreshed >= live.presence_ttl / 3:
                session.presence_refreshed = now
                for ch in session.subs:
                    if self.permissions.join_leave(ch):
                        refresh.append((ch, self._client_info(session)))
        failed = 0
        for ch, info in refresh:
            try:
                await self.broker.add_presence(ch, info, live.presence_ttl)
            except Unavailable:
                failed += 1
        if failed:
            log.warning("presence refresh failed for %d entries: broker unavailable", failed)

    def _spawn(self, aw: Awaitable[Any]) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await aw
            except Exception:
                log.exception("background task failed")

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._background.discard(t)
            if t.cancelled() and inspect.iscoroutine(aw):
                aw.close()  # cancelled before it ever ran

        task.add_done_callback(done)
        return task


def _passed(fed: StreamPosition | None, seen: StreamPosition) -> bool:
    """Has the feed already delivered everything up to ``seen``?"""
    if fed is None:
        return False
    if fed.epoch and seen.epoch and fed.epoch != seen.epoch:
        return False
    return fed.offset >= seen.offset


def _since(since: frames.Since | None) -> StreamPosition | None:
    return None if since is None else StreamPosition(since.epoch, since.offset)
