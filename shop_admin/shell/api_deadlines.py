"""GET /merchant/deadlines: every deadline of the user's shops, nearest first, from the kinds the apps register."""
from django.utils import timezone
from ninja import Field, Query, Router

from shop_admin.kernel.api import ERRORS, MerchantAuth, Schema, time_str
from shop_admin.kernel.deadline_queue import QueueEntry, deadline_queue_for
from shop_admin.kernel.selectors import user_shop_ids
from shop_admin.kernel.throttling import rate_limited

merchant_router = Router(auth=MerchantAuth(), tags=["merchant deadlines"])


class DeadlineOut(Schema):
    kind: str = Field(..., description="ship / aftersale_reply / return_receipt / inspection / exception / recovery / review_reply")
    kind_label: str
    due_at: str
    overdue: bool
    shop_id: int
    order_no: str
    detail: str
    aftersale_id: int | None = None
    exception_id: int | None = None
    review_id: int | None = None
    action: str | None = Field(None, description="what to do (ship, reply, receive, inspect, resolve, recover); null when the role may not")
    url: str


class DeadlineFeedOut(Schema):
    deadlines: list[DeadlineOut]
    next_cursor: str | None


def deadline_out(entry: QueueEntry) -> dict:
    row = entry.row
    return {
        "kind": row.kind,
        "kind_label": str(entry.kind.label),
        "due_at": time_str(row.due_at),
        "overdue": entry.overdue,
        "shop_id": row.shop_id,
        "order_no": row.order_no,
        "detail": row.detail,
        "aftersale_id": row.aftersale_id,
        "exception_id": row.exception_id,
        "review_id": row.review_id,
        "action": entry.kind.action if entry.action_allowed else None,
        "url": row.url,
    }


@merchant_router.get("/deadlines", response={200: DeadlineFeedOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_deadlines(
    request,
    within: str | None = Query(None, max_length=10, description="a span such as 30m, 2h, 3d (default 24h, at most 30d)"),
    kind: str | None = Query(None, max_length=40),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=100),
):
    entries, next_cursor = deadline_queue_for(
        user=request.auth, shop_ids=user_shop_ids(user=request.auth), now=timezone.now(), within=within, kind=kind,
        cursor=cursor, limit=limit,
    )
    return {"deadlines": [deadline_out(e) for e in entries], "next_cursor": next_cursor}
