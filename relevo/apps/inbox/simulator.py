"""THE WHATSAPP SIMULATOR — demo mode only; there is no WhatsApp here.

It stands in for the backend a real deployment runs next to relevo (the one
holding the WhatsApp session), and it goes through the very same service
calls that backend's HTTP calls reach (``/api/inbox/t/<tenant>/...``):

- incoming messages: on demand (``POST /api/inbox/sim/incoming``) and, every
  ``simulate_every`` seconds, one per tenant from a made-up customer;
- the agents, on the same tick: each agent not signed in does a little work
  through the calls the inbox page makes (take an unassigned conversation,
  read it and answer the customer; resolve a conversation that went quiet
  after its answer), so a long demo keeps a bounded number open;
- the connector: ``qr`` (a fake payload) → ``authenticated`` after
  ``sim_scan_after`` seconds or on "scan"; ``disconnected`` on demand;
- the agents' outgoing messages: ``pendiente`` → ``enviado`` → ``entregado``
  while the connector is authenticated (they wait while it is not): it is
  one of the two implementations of :class:`~.connector.Connector`;
- bulk sends: one message every ``sim_bulk_interval`` seconds, about one in
  twenty-five "failing", with ``bulk:progress`` after each.

Every page that shows its work labels it "Simulador".
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from relevo.hub import Background
from relevo.protocol.errors import RelevoError
from relevo.records import Actor, Record

from .bulk import BulkSends
from .kinds import AGENT, CONNECTOR, CONVERSATION, MESSAGE
from .service import Delivery, InboxService

__all__ = ["Simulator"]


_FIRST = (
    "Rosa Jorge Patricia Miguel Carmen Luis Elena Víctor Sofía Raúl Gabriela Andrés "
    "Milagros César Verónica Hugo Pilar Óscar Diana Julio"
).split()
_LAST = "Quispe Salazar Núñez Torres Mamani Flores Rojas Chávez Huamán Castillo Vargas".split()
_TEXTS = (
    "Hola, ¿tienen delivery hoy?",
    "Buenas tardes, ¿a qué hora cierran?",
    "¿Aceptan Yape o Plin?",
    "Mi pedido aún no llega, ¿me ayudan?",
    "Gracias, ya recibí todo.",
    "Quiero cambiar la dirección de entrega, por favor.",
    "¿Me pueden enviar la lista de precios?",
    "¿Hacen factura a nombre de empresa?",
    "Hola! Quisiera hacer un pedido para mañana temprano.",
    "¿Tienen stock? Necesito 3 unidades.",
    "Ok, quedo atento. Gracias.",
    "¿El precio incluye IGV?",
)

_ANSWERS = (
    "¡Hola! Claro que sí, con gusto le ayudamos.",
    "Buenas, ya lo revisamos y le confirmamos en unos minutos.",
    "Sí, aceptamos Yape, Plin y tarjetas.",
    "Perfecto, queda registrado. ¿Algo más en que le podamos ayudar?",
    "Gracias por escribirnos. Su pedido ya está en camino.",
    "Atendemos de 8 a. m. a 10 p. m. todos los días.",
)
# An agent's round: at most this many acts (answer, resolve) per agent.
_ACTS_PER_AGENT = 2

_TEMPLATES = (
    {
        "name": "seguimiento_pedido",
        "language": "es",
        "category": "UTILITY",
        "text": "Hola, te escribimos por tu pedido. ¿Podemos ayudarte en algo más?",
    },
)

Tenants = Callable[[], Awaitable[list[str]]]
Online = Callable[[], set[str]]


def _nobody() -> set[str]:
    return set()


class Simulator:
    def __init__(
        self, inbox: InboxService, bulk: BulkSends, tenants: Tenants, online: Online = _nobody
    ) -> None:
        self.inbox = inbox
        self.bulk = bulk
        self.records = inbox.records
        self.options = inbox.options
        self.tenants = tenants
        self.online = online  # who is signed in: the simulator never acts for them
        self.rnd = random.Random()
        self._tasks = Background("inbox simulator task")
        self._bulks: set[str] = set()
        self._changed: dict[str, asyncio.Event] = {}
        inbox.connector_changed.append(self._connector_changed)

    # -- the connector interface (see .connector) ---------------------------------------

    name = "simulator"

    async def check(self, tenant: str) -> Record:
        await self.inbox.ensure_connector(tenant)
        return await self.records.get(CONNECTOR, tenant)

    async def deliver(self, tenant: str, message_id: str) -> None:
        await self._deliver(tenant, message_id)

    async def templates(self, tenant: str) -> list[dict[str, Any]]:
        return [dict(t) for t in _TEMPLATES]

    async def send_bulk(self, tenant: str, bulk_id: str) -> None:
        self.run_bulk(tenant, bulk_id)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Tick, if configured (the connectors resume what a restart left half done)."""
        if self.options.simulate and self.options.simulate_every > 0:
            self._spawn(self._ticker())

    async def stop(self) -> None:
        await self._tasks.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coro)

    # -- incoming messages ----------------------------------------------------------------

    async def incoming(
        self,
        tenant: str,
        body: str | None = None,
        sender: str | None = None,
        name: str | None = None,
    ) -> Delivery:
        """A made-up customer writes to ``tenant`` (an existing contact most times)."""
        if sender is None:
            convs = await self.records.find("inbox_conversation", {"tenant": tenant}, limit=200)
            if convs and self.rnd.random() < 0.7:
                pick = self.rnd.choice(convs)
                sender, name = str(pick.get("contact_phone")), None
            else:
                sender = f"+519{self.rnd.randrange(10**7, 10**8)}"
                name = f"{self.rnd.choice(_FIRST)} {self.rnd.choice(_LAST)}"
        return await self.inbox.incoming(
            tenant,
            sender,
            body or self.rnd.choice(_TEXTS),
            name=name,
            external_id=f"sim-{secrets.token_hex(6)}",
        )

    async def _ticker(self) -> None:
        every = self.options.simulate_every
        while True:
            await self.records.clock.sleep(every * (0.6 + 0.8 * self.rnd.random()))
            await self.tick()

    async def tick(self) -> None:
        """One round: each tenant's agents work, then a customer writes."""
        for tenant in await self.tenants():
            await self.attend(tenant)
            await self.incoming(tenant)

    # -- the agents -------------------------------------------------------------------------

    async def attend(self, tenant: str) -> int:
        """The tenant's agents who are not signed in do one round of work, as
        a person at the inbox page would: the oldest waiting customers first
        (an unassigned conversation is taken, then read and answered), then
        the conversations whose answer was the last word for a while are
        resolved. A conversation assigned to someone signed in is theirs.
        Returns how many conversations were acted on."""
        away = self.online()
        agents = [
            Actor(a.id, frozenset({str(a.get("rol"))}), tenant, {"name": a.get("nombre")})
            for a in await self.records.find(AGENT, {"tenant": tenant}, limit=100)
            if a.id not in away
        ]
        if not agents:
            return 0
        convs = await self.records.find(
            CONVERSATION, {"tenant": tenant, "state": "abierta"}, limit=500
        )
        now, every = self.inbox.now_ms(), self.options.simulate_every * 1000
        free = [c for c in convs if c.get("assigned_to") not in away]  # no one signed in holds them
        waiting = [c for c in free if c.get("last_direction") == "in"]
        quiet = [
            c
            for c in free
            if c.get("last_direction") == "out" and now - int(c.get("last_at") or 0) >= 2 * every
        ]
        todo = sorted(waiting, key=lambda c: int(c.get("last_at") or 0)) + quiet
        by_id = {a.user: a for a in agents}
        acts = dict.fromkeys(by_id, 0)
        done = 0
        for conv in todo:
            owner = by_id.get(str(conv.get("assigned_to")))
            if owner is None:  # unassigned (or its agent is gone): the least busy takes it
                owner = min(agents, key=lambda a: (acts[a.user], self.rnd.random()))
            if acts[owner.user] >= _ACTS_PER_AGENT:
                continue
            acts[owner.user] += 1
            try:
                await self._work(owner, conv)
            except RelevoError:
                continue  # a person got there first (answered, resolved): fine
            done += 1
        return done

    async def _work(self, agent: Actor, conv: Record) -> None:
        if conv.get("assigned_to") != agent.user:
            await self.inbox.assign(agent, conv.id, agent.user)
        if conv.get("last_direction") == "in":
            await self.inbox.act(agent, conv.id, "read")
            await self.inbox.send(agent, conv.id, self.rnd.choice(_ANSWERS))
        else:
            await self.inbox.act(agent, conv.id, "resolve")

    # -- the connector ----------------------------------------------------------------------

    async def show_qr(self, tenant: str) -> Record:
        payload = f"relevo-sim://whatsapp/{tenant}/{secrets.token_urlsafe(18)}"
        rec = await self.inbox.connector(tenant, "qr", qr=payload)
        if self.options.sim_scan_after > 0:
            self._spawn(self._scan_later(tenant, payload))
        return rec

    async def _scan_later(self, tenant: str, payload: str) -> None:
        await self.records.clock.sleep(self.options.sim_scan_after)
        rec = await self.records.get(CONNECTOR, tenant)
        if rec.state == "qr" and rec.get("qr") == payload:
            await self.scan(tenant)

    async def scan(self, tenant: str) -> Record:
        return await self.inbox.connector(
            tenant, "authenticated", number=f"+519{self.rnd.randrange(10**7, 10**8)}"
        )

    async def disconnect(self, tenant: str) -> Record:
        return await self.inbox.connector(
            tenant, "disconnected", detail="Sesión cerrada desde el teléfono (simulado)"
        )

    async def _online(self, tenant: str) -> None:
        """Until the tenant's connector is authenticated (messages wait for it).
        Woken by the service's connector news; the timeout is a safety net."""
        while True:
            changed = self._changed.setdefault(tenant, asyncio.Event())
            changed.clear()
            if (await self.records.get(CONNECTOR, tenant)).state == "authenticated":
                return
            await self.records.clock.sleep(5, changed)

    def _connector_changed(self, tenant: str, rec: Record) -> None:
        self._changed.setdefault(tenant, asyncio.Event()).set()

    # -- outgoing ---------------------------------------------------------------------------

    async def _deliver(self, tenant: str, message_id: str) -> None:
        msg = await self.records.get(MESSAGE, message_id)
        if msg.get("status") != "pendiente":
            return
        await self._online(tenant)
        await self.records.clock.sleep(0.3)
        await self.inbox.set_status(tenant, message_id, "enviado")
        await self.records.clock.sleep(0.9)
        await self.inbox.set_status(tenant, message_id, "entregado")

    def run_bulk(self, tenant: str, bulk_id: str) -> None:
        if bulk_id not in self._bulks:
            self._bulks.add(bulk_id)
            self._spawn(self._run_bulk(tenant, bulk_id))

    async def _run_bulk(self, tenant: str, bulk_id: str) -> None:
        try:
            while True:
                await self._online(tenant)
                await self.records.clock.sleep(self.options.sim_bulk_interval)
                rec = await self.bulk.send_next(tenant, bulk_id, fail=self.rnd.random() < 0.04)
                if rec is None or rec.state != "enviando":
                    return
        finally:
            self._bulks.discard(bulk_id)
