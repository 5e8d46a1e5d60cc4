"""The hub: this node's sessions and the commands they send.

It is the facade of the ``hub`` package and holds little itself: the channel
index and the fan-out path are :mod:`relevo.hub.fanout`, subscribing with
recovery is :mod:`relevo.hub.subscriptions`, pings and token expiry are
:mod:`relevo.hub.liveness`. A session knows the hub only through the
:class:`~relevo.hub.session.SessionContext` it was opened with; transports
are written bytes through :class:`~relevo.hub.transport.Transport`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from relevo.broker.base import Broker, PresenceStore, PublishItem
from relevo.broker.memory import presence_for
from relevo.clock import Clock, SystemClock
from relevo.hub._tasks import Background
from relevo.hub.auth import Identity, TokenVerifier
from relevo.hub.fanout import Fanout
from relevo.hub.liveness import Liveness
from relevo.hub.metrics import HubMetrics
from relevo.hub.permissions import Permissions
from relevo.hub.proxy import Backend, Proxies
from relevo.hub.publishing import ClientPublishes
from relevo.hub.session import Session, SessionContext, SessionState
from relevo.hub.subscriptions import Subscriptions
from relevo.hub.transport import Transport
from relevo.hub.users import UserListener, Users
from relevo.protocol import frames
from relevo.protocol.errors import (
    AuthError,
    Disconnect,
    DisconnectCode,
    ErrorCode,
    LimitExceeded,
    PermissionDenied,
    ProtocolError,
    RelevoError,
)
from relevo.protocol.types import ClientInfo, Publication, StreamPosition
from relevo.settings import Settings

__all__ = ["Hub"]

log = logging.getLogger("relevo.hub")

#: Publishers whose channels are not checked against the namespaces: the
#: records relay publishes committed outbox rows, and refusing one would wedge
#: the outbox behind it (a kind's channels are checked when it is registered).
_UNCHECKED_SOURCES = frozenset({"records"})
ConnectCheck = Callable[[Identity], Awaitable[None]]


class Hub:
    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        *,
        presence: PresenceStore | None = None,
        clock: Clock | None = None,
        backend: Backend | None = None,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.clock: Clock = clock or SystemClock()
        self.presence_store = presence if presence is not None else presence_for(broker, self.clock)
        #: Monotonic seconds: when sessions were last seen, their command budget.
        self.now = self.clock.monotonic
        self.permissions = Permissions(settings.namespaces)
        self.verifier = TokenVerifier(settings.auth, self.clock)
        self.metrics = HubMetrics()
        #: The app's backend, asked through ``[proxy.*]`` (``backend``: the
        #: HTTP client for it; the server gives one when proxies are configured).
        answers = self.metrics.proxy_answers
        self.proxies = Proxies(settings.proxies, backend, self.now, answers, wall=self.clock.now)
        self.node = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._sessions: set[Session] = set()
        self._connect_checks: list[ConnectCheck] = []
        self.background = Background()
        #: Named sessions by user, their join/leave listeners, cross-node disconnects.
        self.users = Users(broker, self.verifier, self.clock, self.background, self.disconnect)
        self.fanout = Fanout(self.metrics, self.disconnect, self.users.on_control)
        self.subscriptions = Subscriptions(
            settings,
            broker,
            self.presence_store,
            self.permissions,
            self.metrics,
            self.fanout,
            self.background,
        )
        self.liveness = Liveness(
            settings,
            self.clock,
            self.presence_store,
            self.permissions,
            self._sessions,
            self.disconnect,
        )
        self.pubs = ClientPublishes(settings, self.permissions, self.publish, self.send_error)
        self._context = SessionContext(settings.limits, self.now, self.handle_frame, self.flooded)
        self._json = msgspec.json.Encoder()
        self.metrics.read_gauges_from(self._sessions, self.subscriptions, self.fanout.channels)
        #: The last errors and server-side disconnects, newest last, for the admin page.
        self.recent_errors: deque[dict[str, Any]] = deque(maxlen=200)

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.start(self.fanout)
        self.liveness.start()

    async def close(self) -> None:
        self.liveness.stop()
        for session in list(self._sessions):
            self.disconnect(session, DisconnectCode.SHUTDOWN, "server is shutting down")
        # Let presence leaves and broker unsubscribes finish, briefly.
        await self.background.close(grace=2.0)
        await self.proxies.close()
        await self.broker.close()

    @property
    def sessions(self) -> frozenset[Session]:
        return frozenset(self._sessions)

    def channel_names(self) -> list[str]:
        return list(self.fanout.channels)

    def subscriber_count(self, channel: str) -> int:
        chan = self.fanout.channels.get(channel)
        return 0 if chan is None else chan.subscriber_count()

    def add_leave_listener(self, listener: UserListener) -> None:
        """Call ``listener(user)`` when a user's last connection on this node goes."""
        self.users.leave_listeners.append(listener)

    def add_join_listener(self, listener: UserListener) -> None:
        """Call ``listener(user)`` when a user's first connection on this node
        authenticates (the counterpart of :meth:`add_leave_listener`)."""
        self.users.join_listeners.append(listener)

    def add_connect_check(self, check: ConnectCheck) -> None:
        """Run ``await check(identity)`` on every ``connect`` and ``refresh``
        (and SSE stream) after the token verified: raising an
        :class:`~relevo.protocol.errors.AuthError` refuses it (the accounts
        layer refuses tokens of sign-in sessions that have ended)."""
        self._connect_checks.append(check)

    def user_online(self, user: str) -> bool:
        return self.users.online(user)

    # -- sessions -------------------------------------------------------------

    def open_session(
        self, transport: Transport, headers: Mapping[str, str] | None = None
    ) -> Session:
        """A session for a new connection; ``headers`` (lower-case names) are
        its request's, of which the connect proxy may be sent the allow-listed."""
        session = Session(self._context, transport, f"{self.node}-{next(self._ids)}", self.now())
        if headers:
            session.forwarded = self.proxies.forwarded(headers)
        self._sessions.add(session)
        return session

    def close_session(self, session: Session) -> None:
        """The transport is gone (closed, broken or dead): forget the session."""
        if session.closed:
            return
        session.set_state(SessionState.CLOSED)
        self._sessions.discard(session)
        self.liveness.disarm(session)
        if session.runner is not None:
            session.runner.cancel()
        for ch in list(session.subs):
            self.subscriptions.detach(session, ch)
        if session.identity.user:
            self.users.remove(session, session.identity.user)

    def disconnect(self, session: Session, code: DisconnectCode, message: str = "") -> None:
        if session.closed:
            return
        self.metrics.child(self.metrics.disconnects, str(code)).inc()
        self._remember(session, f"disconnect:{code}", message)
        session.transport.close(Disconnect.of(code, message))
        self.close_session(session)

    def flooded(self, session: Session) -> None:
        self.disconnect(session, DisconnectCode.RATE_LIMITED, "too many commands")

    def authenticate(self, session: Session, token: str) -> Identity:
        identity = self.verify(token)
        self._set_identity(session, identity)
        return identity

    def verify(self, token: str) -> Identity:
        if self.proxies.tokens_refused:
            raise AuthError(
                "this server lets the app's backend authenticate connections: "
                "connect without a token"
            )
        return self.verifier.verify(token)

    def can_connect_by_proxy(self, session: Session) -> bool:
        """Would :meth:`connect_by_proxy` ask the backend (a connect proxy is
        configured and the request carried a credential it forwards)?"""
        return bool(session.forwarded)

    async def connect_by_proxy(self, session: Session) -> Identity:
        """Authenticate a connection without a token by asking the app's
        backend with the request's allow-listed cookies and headers."""
        identity = await self.proxies.connect(session.forwarded)
        for check in self._connect_checks:
            await check(identity)
        if not session.closed:
            self._set_identity(session, identity)
        return identity

    async def admit(self, session: Session, token: str) -> Identity:
        """:meth:`authenticate`, with the connect checks run before the
        session takes the identity."""
        identity = await self.checked_identity(token)
        self._set_identity(session, identity)
        return identity

    async def checked_identity(self, token: str) -> Identity:
        identity = self.verify(token)
        for check in self._connect_checks:
            await check(identity)
        return identity

    def _set_identity(self, session: Session, identity: Identity) -> None:
        if session.state is SessionState.OPEN:
            session.set_state(SessionState.CONNECTED)
        session.identity = identity
        self.liveness.arm_expiry(session)
        if identity.user:  # anonymous sessions are never indexed
            self.users.add(session, identity.user)

    # -- commands ---------------------------------------------------------------

    async def handle_frame(self, session: Session, text: bytes) -> None:
        frame_id: frames.FrameId = None
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
            if session.ahead and not isinstance(cmd, frames.Pub):
                await session.drain_ahead()  # its reply comes after theirs
            await self._dispatch(session, cmd)
        except RelevoError as exc:
            if frame_id is None:
                frame_id = exc.frame_id
            await session.drain_ahead()
            self.send_error(session, frame_id, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("internal error handling a frame from %s", session.client)
            self.send_error(session, frame_id, RelevoError("internal error"))

    def send_error(self, session: Session, frame_id: frames.FrameId, exc: RelevoError) -> None:
        if session.closed:
            return
        self.metrics.child(self.metrics.errors, str(exc.code)).inc()
        self._remember(session, str(exc.code), exc.message)
        session.send(frames.encode_error(frame_id, exc))

    def _remember(self, session: Session, code: str, message: str) -> None:
        self.recent_errors.append(
            {
                "ts": self.clock.now(),
                "client": session.client,
                "user": session.identity.user,
                "code": code,
                "message": message,
            }
        )

    async def _dispatch(self, session: Session, cmd: frames.Command) -> None:
        if isinstance(cmd, frames.Ping):
            session.send(frames.encode_pong(cmd.id))
        elif isinstance(cmd, frames.Sub):
            await self.subscribe(session, cmd.ch, _since(cmd.since), cmd.id)
        elif isinstance(cmd, frames.Unsub):
            self.unsubscribe(session, cmd.ch)
            session.send(frames.encode_ok(cmd.id, {}))
        elif isinstance(cmd, frames.Pub):
            await self.pubs.run(session, cmd)
        elif isinstance(cmd, frames.History):
            await self.check_subscribe(session.identity, cmd.ch)
            pubs, pos = await self.history(cmd.ch, _since(cmd.since), cmd.limit)
            session.send(frames.encode_ok(cmd.id, frames.history_result(pos, pubs)))
        elif isinstance(cmd, frames.Presence):
            self.permissions.check_presence(session.identity, cmd.ch)
            clients = await self.presence(cmd.ch)
            session.send(frames.encode_ok(cmd.id, frames.presence_result(clients)))
        elif isinstance(cmd, frames.Connect):
            if session.state is not SessionState.OPEN:
                raise ProtocolError("already connected")
            if cmd.token is None:
                identity = await self.connect_by_proxy(session)
            else:
                identity = await self.admit(session, cmd.token)
            result = {"client": session.client, "user": identity.user, "expires": identity.expires}
            session.send(frames.encode_ok(cmd.id, result))
        elif isinstance(cmd, frames.Refresh):
            self.refresh(session, await self.checked_identity(cmd.token))
            session.send(frames.encode_ok(cmd.id, {"expires": session.identity.expires}))

    def refresh(self, session: Session, token: str | Identity) -> None:
        """Swap the session's token. The new token is the only authority from
        now on: each subscription it does not allow is dropped, with an
        ``unsub`` push saying why. A token for another user is refused and the
        session keeps its identity (switching users is a new connection)."""
        identity = self.verify(token) if isinstance(token, str) else token
        old = session.identity.user
        if old and identity.user != old:
            raise PermissionDenied(
                f"a refresh token must be for the same user ({old}); connect again to switch"
            )
        if session.state is SessionState.OPEN:
            self._set_identity(session, identity)
        else:
            session.identity = identity
            self.liveness.arm_expiry(session)
        for channel in sorted(session.subs):
            try:
                self.permissions.check_subscribe(identity, channel)
            except PermissionDenied as exc:
                self.drop_subscription(session, channel, exc)

    def drop_subscription(self, session: Session, channel: str, why: RelevoError) -> None:
        """End a subscription the client did not ask to end, and tell it:
        ``{"op":"unsub","ch":...,"code":...,"message":...}``."""
        self.subscriptions.end(session, channel)  # what was published while it was allowed
        self._remember(session, f"unsub:{why.code}", f"{channel}: {why.message}")
        session.send(
            self._json.encode(
                {"op": "unsub", "ch": channel, "code": str(why.code), "message": why.message}
            )
        )

    # -- subscriptions (relevo.hub.subscriptions) ---------------------------------

    async def subscribe(
        self,
        session: Session,
        channel: str,
        since: StreamPosition | None,
        frame_id: frames.FrameId = None,
    ) -> None:
        """Subscribe and reply; the reply is written only once the channel's
        feed is attached, so nothing published after it can be missed."""
        await self.check_subscribe(session.identity, channel)
        await self.subscriptions.subscribe(session, channel, since, frame_id)

    async def check_subscribe(self, identity: Identity, channel: str) -> None:
        """May ``identity`` subscribe to (or read the history of) ``channel``?
        The namespace's rules first; then, where the namespace names a
        ``subscribe_proxy``, the app's backend (only for what the rules allow)."""
        self.permissions.check_subscribe(identity, channel)
        ns = self.permissions.namespace(channel)
        if ns is not None and ns.subscribe_proxy:
            await self.proxies.check_subscribe(ns.subscribe_proxy, identity, channel)

    def unsubscribe(self, session: Session, channel: str) -> None:
        self.subscriptions.unsubscribe(session, channel)

    # -- publishing and queries (server API and client commands) -----------------

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
        self.permissions.check_publishable(channel, known=source not in _UNCHECKED_SOURCES)
        options = self.permissions.history_options(channel)
        pub = await self.broker.publish(
            channel, event, data, options, idempotency_key=idempotency_key
        )
        self.metrics.child(self.metrics.published, source).inc()
        return pub

    async def publish_many(
        self, batch: Sequence[tuple[str, str, bytes, str | None]], source: str = "api"
    ) -> list[Publication | RelevoError]:
        """Publish each ``(channel, event, data, idempotency_key)``, in order, in one broker
        call; a refused channel's item gets its error. A broker failure raises."""
        known = source not in _UNCHECKED_SOURCES
        results: list[Publication | RelevoError | None] = []
        items = []
        for channel, event, data, key in batch:
            try:
                self.permissions.check_publishable(channel, known=known)
                options = self.permissions.history_options(channel)
                items.append(PublishItem(channel, event, data, options, key))
                results.append(None)
            except RelevoError as exc:
                results.append(exc)
        pubs = iter(await self.broker.publish_many(items))
        self.metrics.child(self.metrics.published, source).inc(len(items))
        return [next(pubs) if r is None else r for r in results]

    async def history(
        self, channel: str, since: StreamPosition | None, limit: int
    ) -> tuple[list[Publication], StreamPosition]:
        frames.validate_channel(channel)
        options = self.permissions.history_options(channel)
        res = await self.broker.history(channel, since, limit, options)
        return res.publications, res.position

    async def presence(self, channel: str) -> list[ClientInfo]:
        return await self.presence_store.presence(channel)

    async def disconnect_user(self, user: str) -> None:
        """Close every connection of ``user`` on every node."""
        await self.users.disconnect_user(user)

    async def end_sessions(
        self, sids: Iterable[str], tokens_expire_by: float | None = None
    ) -> None:
        """End sign-in sessions on every node (:meth:`Users.end_sessions`)."""
        await self.users.end_sessions(sids, tokens_expire_by)


def _since(since: frames.Since | None) -> StreamPosition | None:
    return None if since is None else StreamPosition(since.epoch, since.offset)
