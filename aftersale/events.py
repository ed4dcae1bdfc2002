"""One function per after-sale event kind; each writes to the order's timeline through orders' one writer."""
from aftersale.constants import AfterSaleEventKind
from aftersale.models import AfterSaleCase
from orders.events import order_event_append
from shop_admin.kernel.actors import Actor


def aftersale_opened_event(*, case: AfterSaleCase, actor: Actor):
    """reason: the buyer's reason. data: aftersale_id, type."""
    return order_event_append(
        order=case.order, kind=AfterSaleEventKind.OPENED, actor=actor, reason=case.reason, data={"aftersale_id": case.pk, "type": case.type}
    )


def aftersale_auto_approved_event(*, case: AfterSaleCase, actor: Actor):
    """No answer by the reply deadline: the claim is approved. data: aftersale_id, type, to_status."""
    return order_event_append(
        order=case.order,
        kind=AfterSaleEventKind.AUTO_APPROVED,
        actor=actor,
        data={"aftersale_id": case.pk, "type": case.type, "to_status": case.status},
    )
