"""The demo's after-sale outcomes: the month leaves cases waiting for the merchant; a few are answered, as a shop would."""
from django.core.management.base import OutputWrapper

from aftersale.constants import AfterSaleStatus
from aftersale.models import AfterSaleCase
from aftersale.services import (
    aftersale_agree,
    aftersale_escalate,
    aftersale_message,
    aftersale_reject,
)
from orders.constants import OrderStatus
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.models import Shop
from shop_admin.shell.demo.evidence import demo_evidence


def demo_aftersale_outcomes(*, shop: Shop, merchant, stderr: OutputWrapper) -> None:
    """Of the shop's waiting cases: one negotiated, one agreed, one rejected, one rejected and taken to the platform;
    the rest keep waiting with their reply deadline running (the workbench's countdown)."""
    staff = Actor.for_user(merchant)
    cases = list(AfterSaleCase.objects.filter(shop=shop, status=AfterSaleStatus.REQUESTED).select_related("order", "buyer").order_by("pk"))
    # Cases of orders still waiting for confirmation are answered last: they keep the order's auto-confirm paused.
    cases.sort(key=lambda case: case.order.status == OrderStatus.DELIVERED)
    plays = [
        lambda case: aftersale_message(case=case, actor=staff, body="您好，麻烦补充一张外包装照片，我们核实后马上处理"),
        # The merchant agrees without naming an address, so the buyer is sent the shop's default, as the agree form preselects.
        lambda case: aftersale_agree(case=case, actor=staff),
        lambda case: aftersale_reject(case=case, actor=staff, reason="出库前已验货，商品完好，见出库照片", evidence=[demo_evidence("outbound-check")]),
        lambda case: aftersale_escalate(
            case=aftersale_reject(case=case, actor=staff, reason="超出七天无理由退货范围", evidence=[demo_evidence("outbound-check")]),
            actor=Actor.for_buyer(case.buyer),
            reason="商品到手即有划痕，商家拒绝处理",
        ),
    ]
    for case, play in zip(cases, plays):
        try:
            play(case)
        except DomainError as exc:
            stderr.write(f"demo after-sale #{case.pk}: {exc.message}")
