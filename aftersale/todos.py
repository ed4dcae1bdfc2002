"""After-sale's to-dos for the console's bell: a case opened, a reply deadline close.

Bounded range queries on `aftersale_shop_created` and `aftersale_shop_status_due`, newest first.
"""
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersale.constants import AWAITING_MERCHANT, AfterSaleStatus
from aftersale.models import AfterSaleCase
from shop_admin.kernel.todos import TodoItem, TodoSource, deadline_todo_source, todo_key, todo_source_register

# The reply deadline runs while the merchant has not answered (the partial index `aftersale_reply_due`).
REPLY_PENDING = [AfterSaleStatus.REQUESTED, AfterSaleStatus.NEGOTIATING]


def case_opened_todos(*, shop_id: int, since: datetime, now: datetime, limit: int) -> list[TodoItem]:
    """Cases opened since `since` that wait for the merchant."""
    types = dict(AfterSaleCase._meta.get_field("type").choices)
    cases = (
        AfterSaleCase.objects.filter(shop_id=shop_id, status__in=AWAITING_MERCHANT, created_at__gt=since)
        .order_by("-created_at", "-id")
        .values("pk", "type", "created_at", "reply_deadline", "order__order_no")[:limit]
    )
    return [
        TodoItem(
            key=todo_key("aftersale_opened", c["pk"]),
            at=c["created_at"],
            title=_("新的售后申请"),
            detail=f"{types.get(c['type'], c['type'])} · {c['order__order_no']}",
            url=reverse("aftersale:detail", args=[c["pk"]]),
            deadline=c["reply_deadline"],
        )
        for c in cases
    ]


def aftersale_todos_register() -> None:
    todo_source_register(TodoSource(name="aftersale_opened", label=_("新的售后申请"), items=case_opened_todos))
    # Cases whose reply deadline is within `TODO_DUE_SOON` and not answered yet.
    todo_source_register(
        deadline_todo_source(
            name="aftersale_reply_due",
            label=_("售后处理即将超时"),
            rows=lambda shop_id: AfterSaleCase.objects.filter(shop_id=shop_id, status__in=REPLY_PENDING),
            deadline="reply_deadline",
            detail="order__order_no",
            url=lambda c: reverse("aftersale:detail", args=[c["pk"]]),
        )
    )
