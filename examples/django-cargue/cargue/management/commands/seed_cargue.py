"""``manage.py seed_cargue``: two grupos (norte, sur), a vendor and a
dispatcher in each, and today's planilla for each vendor. Passwords are
``cargue123``: for the example only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cargue.models import Linea, Planilla

PRODUCTOS = [
    ("Arepa tradicional x5", 40),
    ("Arepa de queso x5", 25),
    ("Arepa de chócolo x5", 18),
    ("Almojábana x6", 12),
    ("Pandebono x6", 15),
]
USUARIOS = [
    ("v1", "Vendedor Uno", "vendedores", "norte"),
    ("v2", "Vendedora Dos", "vendedores", "sur"),
    ("despacho1", "Despacho Norte", "despachadores", "norte"),
    ("despacho2", "Despacho Sur", "despachadores", "sur"),
]


class Command(BaseCommand):
    help = "Datos de ejemplo del cargue (usuarios, grupos, planillas de hoy)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        hoy = timezone.localdate()
        for username, nombre, rol, grupo in USUARIOS:
            user, creado = User.objects.get_or_create(username=username)
            if creado:
                first, _, last = nombre.partition(" ")
                user.first_name, user.last_name = first, last
                user.set_password("cargue123")
                user.save()
            user.groups.add(Group.objects.get_or_create(name=rol)[0])
            user.groups.add(Group.objects.get_or_create(name=f"grupo:{grupo}")[0])
            if rol == "vendedores":
                planilla, creada = Planilla.objects.get_or_create(
                    vendedor=user, fecha=hoy, defaults={"grupo": grupo}
                )
                if creada:
                    for orden, (producto, cantidad) in enumerate(PRODUCTOS, 1):
                        Linea.objects.create(
                            planilla=planilla, orden=orden, producto=producto, cantidad=cantidad
                        )
        self.stdout.write("Listo: v1 / v2 (vendedores), despacho1 / despacho2; clave cargue123")
