"""Address anomaly: a new order whose address looks like a slip against the buyer's usual ones is flagged before it ships."""
import re

from django.conf import settings
from django.utils.translation import gettext_noop

from orders.constants import ExceptionKind
from orders.models import Order, OrderException
from orders.services.exceptions import exception_open
from shop_admin.kernel.actors import Actor

# A unit, building or room: 1201室, 3号楼, 5栋, 2单元, A座, 12层, 3-1201.
UNIT_RE = re.compile(r"\d+\s*(室|号楼|栋|幢|单元|层|楼|号房)|[A-Za-z]\s*座|\d+\s*-\s*\d+")
USUAL_ADDRESSES = 20  # the buyer's recent orders that say what "usual" is
USUAL_MIN = 2  # fewer past orders than this say nothing about habits


def address_has_unit(detail: str) -> bool:
    return bool(UNIT_RE.search(detail or ""))


def address_slips(*, order: Order, past: list[str] | None = None) -> list[list]:
    """What looks wrong with the order's address, each as a stored text [msgid, params]; empty when it looks like the buyer's usual.

    `past`: the address details of the buyer's latest USUAL_ADDRESSES orders before this one, newest
    first, if the caller has read them already (submission reads them with its SKUs); else read here.
    """
    # A district outside its city is no slip to flag: every way in (submission, address change, CSV import) refuses
    # it through orders.addresses.address_validate, naming the field.
    slips = []
    if past is None:
        past = list(
            Order.objects.filter(buyer_id=order.buyer_id, created_at__lt=order.created_at)
            .exclude(pk=order.pk)
            .order_by("-created_at")
            .values_list("address_detail", flat=True)[:USUAL_ADDRESSES]
        )
    with_unit = sum(1 for detail in past if address_has_unit(detail))
    if len(past) >= USUAL_MIN and with_unit * 2 > len(past) and not address_has_unit(order.address_detail):
        slips.append([gettext_noop("缺少门牌/楼栋/单元号，而该买家的常用地址通常都有"), {}])
    return slips


def address_anomaly_check(*, order: Order, actor: Actor | None = None, past: list[str] | None = None) -> OrderException | None:
    """Raise the address_anomaly exception on a new order whose address looks like a slip (not a hold: a look before shipping).

    `past`: as `address_slips` takes it."""
    if not settings.ADDRESS_ANOMALY_CHECK:
        return None
    slips = address_slips(order=order, past=past)
    if not slips:
        return None
    return exception_open(
        order=order,
        kind=ExceptionKind.ADDRESS_ANOMALY,
        actor=actor or Actor.system("address_anomaly_check"),
        detail=gettext_noop("地址疑似有误：%(slips)s"),
        detail_params={"slips": slips},
        data={"address": order.address_dict(), "slips": slips},
    )
