"""The vendor ticks V on the phone; the change is saved and, in the same
transaction, written to relevo's outbox (``publish_durable``); the relay
publishes ``check_update`` on ``cargue:<grupo>`` after the commit, where the
dispatcher page of that grupo is subscribed. This replaces the seed's
``group_send`` to ``cargue_<vendedor_id>`` and its consumer."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cargue.models import Linea, Planilla
from cargue.relevo_map import canal, grupo_de
from relevo.contrib.django import publish_durable


def _en_grupo(request: HttpRequest, nombre: str) -> bool:
    return request.user.groups.filter(name=nombre).exists()


def _error(status: int, mensaje: str) -> JsonResponse:
    return JsonResponse({"mensaje": mensaje}, status=status)


@login_required
def inicio(request: HttpRequest) -> HttpResponse:
    if _en_grupo(request, "despachadores"):
        return redirect("despacho")
    return redirect("vendedor")


@login_required
def vendedor(request: HttpRequest) -> HttpResponse:
    if not _en_grupo(request, "vendedores"):
        return HttpResponse("Solo para vendedores", status=403)
    planilla = Planilla.objects.filter(vendedor=request.user, fecha=timezone.localdate()).first()
    lineas = list(planilla.lineas.all()) if planilla else []
    return render(request, "cargue/vendedor.html", {"planilla": planilla, "lineas": lineas})


@login_required
def despacho(request: HttpRequest) -> HttpResponse:
    if not _en_grupo(request, "despachadores"):
        return HttpResponse("Solo para despachadores", status=403)
    grupo = grupo_de(request.user)
    planillas = (
        Planilla.objects.filter(grupo=grupo, fecha=timezone.localdate())
        .select_related("vendedor")
        .prefetch_related("lineas")
        .order_by("vendedor__username")
    )
    return render(
        request,
        "cargue/despacho.html",
        {"grupo": grupo, "canal": canal(grupo), "planillas": planillas},
    )


@require_POST
def marcar_v(request: HttpRequest, linea_id: int) -> JsonResponse:
    """``{"v": true|false}``: only the vendor of the line's planilla."""
    if not request.user.is_authenticated:
        return _error(401, "Inicie sesión")
    try:
        body = json.loads(request.body or b"{}")
        v = body["v"]
        if not isinstance(v, bool):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return _error(400, 'Se espera {"v": true o false}')
    with transaction.atomic():
        linea = (
            Linea.objects.select_for_update()
            .select_related("planilla")
            .filter(pk=linea_id, planilla__vendedor=request.user)
            .first()
        )
        if linea is None:  # not theirs, or no such line: the same answer
            return _error(404, "Línea no encontrada")
        linea.v = v
        linea.save(update_fields=["v"])
        planilla = linea.planilla
        publish_durable(
            canal(planilla.grupo),
            "check_update",
            {
                "linea": linea.pk,
                "vendedor": request.user.get_username(),
                "producto": linea.producto,
                "v": linea.v,
                "d": linea.d,
                "fecha": planilla.fecha,
            },
        )
    return JsonResponse({"linea": linea.pk, "v": linea.v, "d": linea.d})
