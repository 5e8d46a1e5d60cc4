"""The turnero's operations, each one records transaction.

- :meth:`Turnero.emitir` — the kiosk issues a ticket: the per-trámite,
  per-day number (``A-045``) comes from a records sequence, incremented in
  the same transaction that writes the turno, so two kiosks never get the
  same number and a refused ticket leaves no gap.
- :meth:`Turnero.llamar_siguiente` — "call next" for a mesa: the mesa row is
  locked (one call at a time per mesa), then the next turno among the
  trámites it serves, by prioridad then arrival, is claimed with
  ``claim_next`` (``FOR UPDATE SKIP LOCKED`` where the database has it), so
  two mesas pressing at once get two different turnos and none is skipped.
- :meth:`Turnero.accion` — rellamar / atender / finalizar / no_presento on
  one turno, with a clear Spanish message when its state does not allow it.

Every refusal happens before anything is written, and a refused request
rolls its transaction back: nothing is ever half-written.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from relevo.clock import Clock
from relevo.hub.hub import Hub
from relevo.protocol.errors import NotFound
from relevo.records import SYSTEM, Actor, Lease, Record, Records, Transaction

from ..kit.errors import bad_request, conflict, not_found
from ._sql import count_in_queues
from .kinds import (
    ABIERTOS,
    EN_CURSO,
    LLAMADO,
    MESA_LEASE_S,
    MOTIVOS_FIN,
    MOTIVOS_PRIORIDAD,
    cola_key,
    mesa_cola,
)
from .monitor import MonitorView
from .options import TurnosOptions
from .rules import ACCIONES, MAX_MOTIVO_PAUSA, NO_PERMITIDO, at_desk, backend, no_es_de_otro
from .views import ESTADOS, MAX_NOMBRE, nombre_de

__all__ = ["ACCIONES", "MAX_MOTIVO_PAUSA", "Turnero"]


class Turnero:
    def __init__(
        self,
        records: Records,
        options: TurnosOptions,
        *,
        changed: Callable[[Record], None] = lambda rec: None,
        clock: Clock | None = None,
    ) -> None:
        self.records = records
        self.options = options
        self.changed = changed
        """Told after each committed change (the statistics listen)."""
        self.clock: Clock = clock or records.clock
        """The time its changes happen at: the records' clock, or (the demo's
        seed, replaying the morning) a clock of the past."""
        self._monitor = MonitorView(records, options)

    @property
    def hub(self) -> Hub:
        """The server's hub: the one the records service publishes through
        (known once ``records.attach(hub)`` ran, before the server starts)."""
        if self.records.hub is None:
            raise RuntimeError("records.attach(hub) must run before the turnos app is used")
        return self.records.hub

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Transaction]:
        async with self.records.transaction() as tx:
            if self.clock is not self.records.clock:
                tx.now = self.clock.now()  # history, timestamps and timers count from then
            yield tx

    def hoy(self, now: float | None = None) -> str:
        return self.options.day(self.clock.now() if now is None else now)

    # -- reading ------------------------------------------------------------------

    async def _get(self, tx: Transaction, kind: str, id: str, *, lock: bool = False) -> Record:
        try:
            return await tx.get(kind, id, lock=lock)
        except NotFound:
            label = {"mesa": "La mesa", "tramite": "El trámite", "turno": "El turno"}[kind]
            raise not_found(f"{kind} {id} does not exist", f"{label} {id} no existe.") from None

    async def turno(self, id: str) -> Record:
        try:
            return await self.records.get("turno", id)
        except NotFound:
            raise not_found(f"turno {id} does not exist", f"El turno {id} no existe.") from None

    async def actual(self, mesa_id: str) -> Record | None:
        """The turno a mesa has called or is attending today, if any."""
        try:
            await self.records.get("mesa", mesa_id)
        except NotFound:
            raise not_found(
                f"mesa {mesa_id} does not exist", f"La mesa {mesa_id} no existe."
            ) from None
        return at_desk(await self.records.find("turno", {"state": sorted(EN_CURSO)}),
                        mesa_id, self.hoy())  # fmt: skip

    async def monitor(self) -> dict[str, Any]:
        """What the public monitor starts from (:class:`.monitor.MonitorView`)."""
        return await self._monitor.snapshot(self.hub, self.hoy())

    # -- the kiosk ----------------------------------------------------------------

    async def emitir(
        self,
        tramite_id: str,
        *,
        by: Actor,
        prioridad: int = 0,
        prioridad_motivo: str | None = None,
        persona_nombre: str | None = None,
    ) -> tuple[Record, int]:
        """Issue a ticket; returns the turno and how many are ahead of it."""
        if prioridad not in (0, 1):
            raise bad_request("prioridad is 0 or 1", "La prioridad debe ser 0 o 1.")
        if prioridad_motivo is not None and prioridad_motivo not in MOTIVOS_PRIORIDAD:
            raise bad_request(
                f"prioridad_motivo is one of {sorted(MOTIVOS_PRIORIDAD)}",
                "El motivo de prioridad no es válido.",
            )
        if prioridad_motivo is not None:
            prioridad = 1
        nombre = (persona_nombre or "").strip() or None
        if nombre is not None and len(nombre) > MAX_NOMBRE:
            raise bad_request(
                f"persona_nombre is at most {MAX_NOMBRE} characters",
                f"El nombre puede tener hasta {MAX_NOMBRE} caracteres.",
            )
        async with self._transaction() as tx:
            tramite = await self._get(tx, "tramite", tramite_id)
            if not tramite.get("activo", True):
                raise conflict(
                    f"tramite {tramite_id} is not in service",
                    f"El trámite {tramite.get('nombre')} no está disponible ahora.",
                )
            area = await tx.get("area", tramite["area_id"])
            fecha = self.hoy(tx.now)
            numero = await tx.next_sequence(f"turnos:{fecha}:{tramite.id}")
            k = tx.kind("turno")
            queue = cola_key(fecha, tramite.id, prioridad)
            values = k.clean(
                {
                    "numero_visible": f"{tramite['prefijo']}-{numero:03d}",
                    "numero": numero,
                    "fecha": fecha,
                    "tramite_id": tramite.id,
                    "tramite_nombre": tramite["nombre"],
                    "area_id": area.id,
                    "area_nombre": area["nombre"],
                    "prioridad": prioridad,
                    "prioridad_motivo": prioridad_motivo,
                    "persona_nombre": nombre,
                    "clave_cola": queue,
                },
                partial=False,
            )
            rid = await tx.new_id("turno")
            # Transaction.write, not create: the seed's event name, turno_creado.
            rec = await tx.write(k, None, values, k.initial, by, event="turno_creado", new_id=rid)
            # Ahead: everyone waiting for this trámite at least as urgent.
            queues = {cola_key(fecha, tramite.id, p) for p in (1, prioridad)}
            ahead = await count_in_queues(tx.conn, k, queues, exclude=rec.id)
        self.changed(rec)
        return rec, ahead

    # -- the operator: one per mesa -------------------------------------------------------

    async def abrir_mesa(self, mesa_id: str, *, by: Actor) -> Lease | None:
        """``by`` takes the mesa, or renews it (the operator page does every
        30 s); ``locked`` while another operator has it. None for the backend
        (API key), which acts for any mesa without taking it."""
        async with self._transaction() as tx:
            mesa = await self._get(tx, "mesa", mesa_id, lock=True)
            nueva = mesa.lease_held(tx.now) is None
            lease = await self._tomar(tx, mesa, by)
        if lease is not None and nueva:
            self.changed(mesa)  # the admin's figures show who has it
        return lease

    async def cerrar_mesa(self, mesa_id: str, *, by: Actor) -> None:
        """Give the mesa up (leaving the panel); a no-op if nobody has it."""
        async with self._transaction() as tx:
            mesa = await self._get(tx, "mesa", mesa_id, lock=True)
            held = mesa.lease_held(tx.now)
            if held is None:
                return
            no_es_de_otro(mesa, by, tx.now)
            mesa = await tx.release_lease("mesa", mesa.id, by=SYSTEM)
        self.changed(mesa)

    async def operador_salio(self, user: str) -> None:
        """Leave hook: an operator's last connection is gone; free their mesas."""
        freed: list[Record] = []
        async with self._transaction() as tx:
            for mesa in await tx.find("mesa", {}):
                held = mesa.lease_held(tx.now)
                if held is not None and held.holder == user:
                    freed.append(await tx.release_lease("mesa", mesa.id, by=SYSTEM))
        for mesa in freed:  # after the commit, as everywhere else
            self.changed(mesa)

    async def _tomar(self, tx: Transaction, mesa: Record, by: Actor) -> Lease | None:
        if backend(by):
            return None
        no_es_de_otro(mesa, by, tx.now)
        operador = Actor.trusted(by.user)
        lease = await tx.acquire_lease("mesa", mesa.id, by=operador, ttl=MESA_LEASE_S)
        nombre = nombre_de(by)
        if (mesa.get("operador_id"), mesa.get("operador_nombre")) != (by.user, nombre):
            # A new holder: remember their name for the admin and the busy banner.
            await tx.update(
                "mesa", mesa.id, {"operador_id": by.user, "operador_nombre": nombre}, by=operador
            )
        return lease

    async def llamar_siguiente(self, mesa_id: str, *, by: Actor) -> Record | None:
        """Call the next turno to ``mesa_id``; None when nobody is waiting.
        The caller takes (or keeps) the mesa: one operator per mesa."""
        async with self._transaction() as tx:
            mesa = await self._get(tx, "mesa", mesa_id, lock=True)
            nombre = mesa["nombre"]
            if not mesa.get("activa", True):
                raise conflict(f"mesa {mesa_id} is closed", f"La {nombre} está cerrada.")
            await self._tomar(tx, mesa, by)
            if mesa.get("pausa"):
                raise conflict(
                    f"mesa {mesa_id} is paused",
                    f"La {nombre} está en pausa: reanúdela para llamar al siguiente.",
                )
            fecha = self.hoy(tx.now)
            t = at_desk(await tx.find("turno", {"state": sorted(EN_CURSO)}), mesa.id, fecha)
            if t is not None:
                raise conflict(
                    f"mesa {mesa_id} has turno {t['numero_visible']} {t.state}",
                    f"La {nombre} tiene el turno {t['numero_visible']} {ESTADOS[str(t.state)]}: "
                    "finalícelo o márquelo como no presentado antes de llamar al siguiente.",
                    turno_id=t.id,
                )
            tramites = [str(x) for x in mesa.get("tramites") or []]
            if not tramites:
                raise conflict(
                    f"mesa {mesa_id} serves no tramite", f"La {nombre} no atiende ningún trámite."
                )
            nxt = None
            own = mesa_cola(mesa.id)  # turnos transferred to this very mesa
            for prioridad in (1, 0):  # priority first, then arrival (claim_next's order)
                queues = [cola_key(fecha, t, prioridad) for t in [*tramites, own]]
                nxt = await tx.claim_next("turno", {"clave_cola": queues})
                if nxt is not None:
                    break
            if nxt is None:
                return None
            quien = {"operador_id": by.user, "operador_nombre": nombre_de(by)}
            rec = await tx.transition(
                "turno", nxt.id, "llamar", {"mesa_id": mesa.id, "mesa_nombre": nombre, **quien},
                by=by,
            )  # fmt: skip
        self.changed(rec)
        return rec

    # -- breaks and transfers ------------------------------------------------------------

    async def pausar(self, mesa_id: str, *, by: Actor, motivo: str | None = None) -> Record:
        """A break: the mesa calls nobody until :meth:`reanudar`. Whoever
        pauses takes the mesa (one operator per mesa); the turno at the desk,
        if any, is left to finish."""
        motivo = (motivo or "").strip() or None
        if motivo is not None and len(motivo) > MAX_MOTIVO_PAUSA:
            raise bad_request(
                f"motivo is at most {MAX_MOTIVO_PAUSA} characters",
                f"El motivo de la pausa puede tener hasta {MAX_MOTIVO_PAUSA} caracteres.",
            )
        return await self._pausa(mesa_id, by, True, motivo)

    async def reanudar(self, mesa_id: str, *, by: Actor) -> Record:
        return await self._pausa(mesa_id, by, False, None)

    async def _pausa(self, mesa_id: str, by: Actor, pausa: bool, motivo: str | None) -> Record:
        async with self._transaction() as tx:
            mesa = await self._get(tx, "mesa", mesa_id, lock=True)
            await self._tomar(tx, mesa, by)
            if bool(mesa.get("pausa")) == pausa:
                return mesa
            changes: dict[str, Any] = {
                "pausa": pausa,
                "pausa_desde": int(tx.now * 1000) if pausa else None,
                "pausa_motivo": motivo,
            }
            who = SYSTEM if backend(by) else Actor.trusted(by.user)
            reason = ("pausa" + (f": {motivo}" if motivo else "")) if pausa else "reanuda"
            out = await tx.update("mesa", mesa.id, changes, by=who, reason=reason)
        self._monitor.forget()  # the monitor lists the mesas on a break
        self.changed(out)
        return out

    async def transferir(
        self,
        turno_id: str,
        *,
        by: Actor,
        mesa_id: str | None = None,
        tramite_id: str | None = None,
    ) -> Record:
        """Send a turno to another trámite (and so, maybe, another area) or to
        one mesa: it waits again there with its number, its priority and its
        arrival time, so it is called before those who came later. History
        says who sent it where (``transferir``, the reason names the target)."""
        if (mesa_id is None) == (tramite_id is None):
            raise bad_request(
                "send mesa_id or tramite_id (one of them)",
                "Indique la mesa o el trámite al que transferir el turno.",
            )
        async with self._transaction() as tx:
            rec = await self._get(tx, "turno", turno_id, lock=True)
            numero = rec["numero_visible"]
            if mesa_id is not None:
                mesa = await self._get(tx, "mesa", mesa_id)
                if not mesa.get("activa", True):
                    raise conflict(
                        f"mesa {mesa_id} is closed", f"La {mesa['nombre']} está cerrada."
                    )
                tramite = await tx.get("tramite", rec["tramite_id"])
                area = await self._get_area(tx, str(mesa["area_id"]))
                destino: str | None = mesa.id
                queue, reason = mesa_cola(mesa.id), f"a {mesa['nombre']}"
            else:
                tramite = await self._get(tx, "tramite", str(tramite_id))
                if not tramite.get("activo", True):
                    raise conflict(
                        f"tramite {tramite_id} is not in service",
                        f"El trámite {tramite['nombre']} no está disponible ahora.",
                    )
                area = await self._get_area(tx, str(tramite["area_id"]))
                destino, queue = None, tramite.id
                reason = f"a {tramite['nombre']} ({area['nombre']})"
            if str(rec.state) not in ABIERTOS:
                raise conflict(
                    f"turno {numero} is {rec.state}; it cannot be transferred",
                    f"El turno {numero} ya está {ESTADOS[str(rec.state)]}: no se puede transferir.",
                    state=rec.state,
                )
            if rec.get("mesa_id") and not backend(by):
                no_es_de_otro(await self._get(tx, "mesa", str(rec["mesa_id"])), by, tx.now)
            data = {
                "tramite_id": tramite.id,
                "tramite_nombre": tramite["nombre"],
                "area_id": area.id,
                "area_nombre": area["nombre"],
                "mesa_destino": destino,
                "clave_cola": cola_key(str(rec["fecha"]), queue, int(rec.get("prioridad") or 0)),
            }
            out = await tx.transition("turno", rec.id, "transferir", data, by=by, reason=reason)
        self.changed(out)
        return out

    async def _get_area(self, tx: Transaction, area_id: str) -> Record:
        try:
            return await tx.get("area", area_id)
        except NotFound:
            raise not_found(
                f"area {area_id} does not exist", f"El área {area_id} no existe."
            ) from None

    async def accion(
        self,
        turno_id: str,
        accion: str,
        *,
        by: Actor,
        mesa_id: str | None = None,
        motivo: str | None = None,
    ) -> Record:
        if accion not in ACCIONES:
            raise not_found(
                f"no action {accion!r} (one of {', '.join(ACCIONES)})",
                f"La acción {accion!r} no existe.",
            )
        data: dict[str, Any] = {}
        if accion == "finalizar":
            motivo = motivo or "atendido"
            if motivo not in MOTIVOS_FIN:
                raise bad_request(
                    f"motivo is one of {sorted(MOTIVOS_FIN)}", "El motivo de cierre no es válido."
                )
            data["motivo"] = motivo
        elif motivo is not None:
            raise bad_request(f"{accion} takes no motivo", f"{accion} no lleva motivo.")
        async with self._transaction() as tx:
            rec = await self._get(tx, "turno", turno_id, lock=True)
            numero = rec["numero_visible"]
            if mesa_id is not None and rec.get("mesa_id") != mesa_id:
                raise conflict(
                    f"turno {numero} is not at mesa {mesa_id}",
                    f"El turno {numero} no está en esta mesa.",
                )
            if rec.get("mesa_id") and not backend(by):
                mesa = await self._get(tx, "mesa", str(rec["mesa_id"]))
                no_es_de_otro(mesa, by, tx.now)
            if not tx.kind("turno").transition(accion).allowed_from(rec.state):
                raise conflict(
                    f"turno {numero} is {rec.state}; {accion} is not allowed",
                    NO_PERMITIDO[accion].format(n=numero, e=ESTADOS[str(rec.state)]),
                    state=rec.state,
                )
            out = await tx.transition("turno", rec.id, accion, data, by=by)
        self.changed(out)
        return out

    async def actualizar(self, turno_id: str, changes: Mapping[str, Any], *, by: Actor) -> Record:
        """Edit the person's name or the priority (``turno_actualizado``)."""
        allowed = {"persona_nombre", "prioridad", "prioridad_motivo"}
        extra = set(changes) - allowed
        if extra:
            raise bad_request(
                f"only {sorted(allowed)} can be edited", "Solo se puede editar nombre y prioridad."
            )
        data = dict(changes)
        if isinstance(data.get("persona_nombre"), str):
            data["persona_nombre"] = data["persona_nombre"].strip()[:MAX_NOMBRE] or None
        async with self._transaction() as tx:
            rec = await self._get(tx, "turno", turno_id, lock=True)
            if str(rec.state) not in ("en_espera", LLAMADO, "atendiendo"):
                raise conflict(
                    f"turno {rec['numero_visible']} is closed",
                    f"El turno {rec['numero_visible']} ya está cerrado.",
                )
            try:
                tx.kind("turno").clean(data, partial=True)
            except ValueError as exc:
                raise bad_request(str(exc), "Los datos del turno no son válidos.") from None
            out = await tx.transition("turno", rec.id, "actualizar", data, by=by)
        self.changed(out)
        return out
