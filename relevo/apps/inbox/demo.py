"""Sample data for ``relevo demo``: two tenants (two companies sharing one
relevo), a few agents each, conversations with messages from the last hours,
both WhatsApp sessions connected, a finished bulk send, a few quick replies
and an internal note each."""

from __future__ import annotations

from relevo.records import SYSTEM, Actor, Record, Records

from .bulk import BulkSends
from .kinds import AGENT, CONVERSATION, MESSAGE, TENANT
from .notes import Notes
from .quick import QuickReplies
from .service import InboxService

__all__ = ["DEMO_AGENTS", "DEMO_TENANTS", "seed"]

DEMO_TENANTS = (
    ("condorito", "Minimarket Condorito", "#1f5bd8", "+5114801234"),
    ("andes", "Ferretería Los Andes", "#0f8a5f", "+5115209876"),
)
DEMO_AGENTS = (
    ("ana@condorito", "condorito", "Ana Torres", "supervisor"),
    ("luis@condorito", "condorito", "Luis Mamani", "agente"),
    ("sofia@condorito", "condorito", "Sofía Rojas", "agente"),
    ("pedro@andes", "andes", "Pedro Huamán", "supervisor"),
    ("carla@andes", "andes", "Carla Vargas", "agente"),
)

# (phone, name, [(minutes ago, direction, text)], assigned agent, resolved)
_CHATS: dict[str, list[tuple[str, str, list[tuple[int, str, str]], str | None, bool]]] = {
    "condorito": [
        (
            "+51987654321",
            "María Quispe",
            [
                (95, "in", "Hola, ¿tienen delivery hoy?"),
                (93, "out", "¡Hola María! Sí, hasta las 9 p. m. ¿Qué necesitas?"),
                (90, "in", "2 balones de gas y un paquete de arroz de 5 kg"),
                (88, "out", "Listo, llega en 40 minutos. Total S/ 112.50"),
                (12, "in", "Ya llegó, muchas gracias"),
            ],
            "luis@condorito",
            False,
        ),
        (
            "+51976543210",
            "Jorge Salazar",
            [
                (60, "in", "Buenas, ¿aceptan Yape?"),
                (58, "out", "Sí, Yape y Plin al 948 123 456."),
                (4, "in", "Perfecto, ya pagué. Mando la captura"),
            ],
            None,
            False,
        ),
        (
            "+51965432109",
            "Patricia Núñez",
            [
                (240, "in", "¿A qué hora abren los domingos?"),
                (235, "out", "De 8 a. m. a 2 p. m., Patricia."),
                (230, "in", "Gracias!"),
            ],
            "sofia@condorito",
            True,
        ),
        (
            "+51954321098",
            "Bodega San Martín",
            [
                (30, "in", "Necesito factura por el pedido de ayer, RUC 20512345678"),
                (2, "in", "¿Me la pueden enviar hoy?"),
            ],
            None,
            False,
        ),
        (
            "+51943210987",
            "Luis Chávez",
            [
                (180, "out", "Hola Luis, tu pedido #2041 ya salió 🚚"),
                (175, "in", "Genial, gracias"),
            ],
            "ana@condorito",
            False,
        ),
    ],
    "andes": [
        (
            "+51912345678",
            "Constructora Huamán",
            [
                (50, "in", "¿Tienen stock de cemento Sol? Necesito 40 bolsas"),
                (47, "out", "Sí, tenemos. ¿Para cuándo lo necesita?"),
                (6, "in", "Para mañana a primera hora en Surco"),
            ],
            "carla@andes",
            False,
        ),
        (
            "+51923456789",
            "Rosa Flores",
            [
                (20, "in", "¿El taladro Bosch de 650 W tiene garantía?"),
            ],
            None,
            False,
        ),
        (
            "+51934567890",
            "Miguel Torres",
            [
                (300, "in", "Quiero cambiar una llave que compré, salió fallada"),
                (290, "out", "Claro Miguel, tráigala con su boleta y se la cambiamos."),
                (280, "in", "Ok, voy mañana"),
            ],
            "pedro@andes",
            True,
        ),
        (
            "+51945678901",
            "Elena Castillo",
            [
                (75, "out", "Elena, ya llegaron las pinturas que encargó."),
                (70, "in", "¡Qué bien! Paso a recogerlas en la tarde"),
            ],
            None,
            False,
        ),
    ],
}
_BULK = {
    "condorito": (
        "Ofertas del fin de semana",
        "Este sábado y domingo 2x1 en abarrotes seleccionados. ¡Te esperamos!",
    ),
    "andes": (
        "Aviso de inventario",
        "Hola, este lunes 8 a. m. cerramos por inventario. Abrimos a las 12 m.",
    ),
}
_QUICK = {
    "condorito": (
        ("Horario", "Atendemos todos los días de 8 a. m. a 10 p. m."),
        ("Medios de pago", "Aceptamos efectivo, tarjetas, Yape y Plin."),
        ("Delivery", "El delivery es gratis por compras desde S/ 50 en el distrito."),
    ),
    "andes": (
        ("Horario", "Atendemos de lunes a sábado, de 8 a. m. a 7 p. m."),
        ("Cotización", "Con gusto le cotizamos: envíenos la lista de materiales y cantidades."),
    ),
}
# (tenant, the contact's phone, the note's author, the note)
_NOTES = (
    ("condorito", "+51987654321", "luis@condorito", "Clienta frecuente: suele pagar con Yape."),
    ("andes", "+51912345678", "carla@andes", "Pide factura: confirmar el RUC antes de enviar."),
)
_NEW_CONTACT = {"condorito": "+51999111222", "andes": "+51999333444"}


async def seed(records: Records, inbox: InboxService, bulk: BulkSends) -> bool:
    """Idempotent: does nothing when there are tenants already."""
    if await records.find(TENANT, {}, limit=1):
        return False
    async with records.transaction() as tx:
        for tenant, nombre, color, _ in DEMO_TENANTS:
            await tx.create(
                TENANT, {"tenant": tenant, "nombre": nombre, "color": color}, by=SYSTEM, id=tenant
            )
        for uid, tenant, nombre, rol in DEMO_AGENTS:
            await tx.create(
                AGENT, {"tenant": tenant, "nombre": nombre, "rol": rol}, by=SYSTEM, id=uid
            )
    now = inbox.now_ms()
    names = {uid: nombre for uid, _, nombre, _ in DEMO_AGENTS}
    for tenant, _, _, number in DEMO_TENANTS:
        await inbox.connector(tenant, "authenticated", number=number)
        for phone, name, lines, assigned, resolved in _CHATS[tenant]:
            for minutes, direction, text in lines:
                at = now - minutes * 60_000
                if direction == "in":
                    await inbox.incoming(tenant, phone, text, name=name, at=at)
                    continue
                agent = assigned or next(u for u, t, _, _ in DEMO_AGENTS if t == tenant)
                who = Actor(agent, frozenset({"agente"}), tenant, {"name": names[agent]})
                async with records.transaction() as tx:
                    conv, _ = await inbox.conversation_for(tx, tenant, phone, name)
                    await inbox.send_in(tx, conv, text, who, status="leido", at=at)
            convs = await records.find(CONVERSATION, {"tenant": tenant, "contact_phone": phone})
            conv = convs[0]
            if assigned:
                await inbox.assign(
                    Actor(assigned, frozenset({"supervisor"}), tenant), conv.id, assigned
                )
            if resolved:
                closer = Actor(assigned or "demo", frozenset({"agente"}), tenant)
                await inbox.act(closer, conv.id, "read")
                await inbox.act(closer, conv.id, "resolve")
        nombre, texto = _BULK[tenant]
        supervisor = next(u for u, t, _, r in DEMO_AGENTS if t == tenant and r == "supervisor")
        who = Actor(supervisor, frozenset({"supervisor"}), tenant, {"name": names[supervisor]})
        # To past customers (resolved chats) and one new number: a new conversation.
        phones = [c[0] for c in _CHATS[tenant] if c[4]] + [_NEW_CONTACT[tenant]]
        campaign: Record | None = await bulk.create(who, nombre, texto, phones)
        while campaign is not None and campaign.state != "completado":
            campaign = await bulk.send_next(tenant, campaign.id)
        for titulo, texto in _QUICK[tenant]:
            await QuickReplies(inbox).create(who, titulo, texto)
    for tenant, number, author, text in _NOTES:
        found = await records.find(CONVERSATION, {"tenant": tenant, "contact_phone": number})
        if found:
            writer = Actor(author, frozenset({"agente"}), tenant, {"name": names[author]})
            await Notes(inbox).add(writer, found[0].id, text)
    assert await records.find(MESSAGE, {}, limit=1)
    return True
