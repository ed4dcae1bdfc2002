"""The helpers every order service shares: lock the row, run a transition or refuse it clearly."""
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from orders.events import OrderMove, order_transition_event, orders_transition_events
from orders.models import Order
from orders.selectors.listing import order_tab_counts_key
from orders.services.exceptions_bulk import exceptions_resolve_on_order_end
from orders.sql import orders_status_move
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.cache import cache_delete_on_commit
from shop_admin.kernel.errors import Conflict, NotFound

TRANSITION_LABELS = {
    "pay": gettext_lazy("支付"),
    "pay_deposit": gettext_lazy("支付定金"),
    "pay_balance": gettext_lazy("支付尾款"),
    "cancel": gettext_lazy("取消"),
    "forfeit_deposit": gettext_lazy("尾款超时取消"),
    "ship": gettext_lazy("发货"),
    "deliver": gettext_lazy("签收"),
    "reject": gettext_lazy("拒收"),
    "complete": gettext_lazy("确认收货"),
    "close": gettext_lazy("关闭"),
}


def order_counts_changed(*, shop_ids: set[int]) -> None:
    """Orders of these shops changed status: drop their cached tab counts once the change is committed."""
    cache_delete_on_commit(*(order_tab_counts_key(shop_id) for shop_id in shop_ids))


def order_lock(order_id: int) -> Order:
    """The order row, locked until the end of the transaction: concurrent actions on it queue up here."""
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(_("订单不存在"), code="order_not_found") from None


def transition_refusal(order: Order, name: str) -> str | None:
    """Why transition `name` cannot run now, in words a merchant or buyer understands; None if it can."""
    method = getattr(order, name)
    if can_proceed(method):
        return None
    action = TRANSITION_LABELS.get(name, name)
    if can_proceed(method, check_conditions=False):
        if order.is_frozen:
            return _("订单支付次数过多，已冻结待审核，不能%(action)s") % {"action": action}
        if order.needs_risk_review:
            return _("订单金额较大，需风控审核通过后才能%(action)s") % {"action": action}
        if order.on_hold:
            return _("订单有未处理的异常（超卖/商家报告/风控），不能%(action)s") % {"action": action}
        return _("订单当前不满足%(action)s的条件") % {"action": action}
    return _("订单状态为「%(status)s」，不能%(action)s") % {"status": order.get_status_display(), "action": action}


def order_transition(order: Order, name: str, actor: Actor, *, reason: str = "", data: dict | None = None) -> None:
    """Run transition `name` on a locked order, save it and write the event; refuse with Conflict."""
    refusal = transition_refusal(order, name)
    if refusal:
        raise Conflict(refusal, code="invalid_transition", details={"status": order.status, "action": name})
    from_status = order.status
    try:
        getattr(order, name)()
        order.save()
    except (TransitionNotAllowed, ConcurrentTransition):
        raise Conflict(_("订单刚被其他操作更新，请刷新后重试"), code="concurrent_update") from None
    order_transition_event(order=order, actor=actor, from_status=from_status, reason=reason, data=data)
    if exceptions_resolve_on_order_end(order_ids=[order.pk], status=order.status, actor=actor, reason=reason or str(TRANSITION_LABELS[name])):
        order.refresh_from_db(fields=["on_hold", "is_frozen"])  # released with its exceptions; a later save() must not restore them
    order_counts_changed(shop_ids={order.shop_id})


def transition_sources(name: str) -> list[str]:
    """The states Order's django-fsm transition `name` leaves from, read off the transition: a batch UPDATE keeps no copy."""
    transitions = getattr(Order, name)._django_fsm.transitions
    if any(t.conditions for t in transitions.values()) or {"*", "+"} & set(transitions):
        raise ValueError(f"transition {name!r} has conditions or wildcard sources a set-wise UPDATE cannot check")
    return sorted(transitions)


def orders_transition_many(
    *, order_ids: list[int], name: str, actor: Actor, reason: str, data: dict[int, dict] | None = None, **fields
) -> list[OrderMove]:
    """Transition `name` on many locked orders at once (a sweep's batch, or one order): what `order_transition` does,
    set-wise. Only the orders in the transition's sources move; the others are left as they are. `fields` are
    written with the new status; `data` holds each order's event data. Returns the moves, in id order.
    """
    sources = transition_sources(name)
    transitions = getattr(Order, name)._django_fsm.transitions
    targets = {transitions[source].target for source in sources}
    if len(targets) != 1:
        raise ValueError(f"transition {name!r} has more than one target")
    # The rows are locked by the caller: one statement moves those in a source state and says where each came from.
    rows = orders_status_move(
        order_ids=order_ids, sources=sources, target=targets.pop(), fields={"updated_at": timezone.now(), **fields}
    )
    if not rows:
        return []
    moves = [
        OrderMove(order_id=pk, from_status=status, to_status=transitions[status].target, data=(data or {}).get(pk))
        for pk, status, _shop in rows
    ]
    orders_transition_events(moves=moves, actor=actor, reason=reason)
    for status in {m.to_status for m in moves}:
        exceptions_resolve_on_order_end(order_ids=[m.order_id for m in moves], status=status, actor=actor, reason=reason)
    order_counts_changed(shop_ids={shop for _pk, _status, shop in rows})
    return moves
