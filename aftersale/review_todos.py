"""Reviews' to-do for the console's bell: a bad review (rating <= 2) to answer, shown with its reply deadline.

One source (one query per poll): the deadline rides on the item rather than a second "due soon" source."""
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from aftersale.review_selectors import bad_reviews_unanswered
from shop_admin.kernel.todos import (
    TodoItem,
    TodoSource,
    todo_key,
    todo_source_register,
)


def bad_review_todos(*, shop_id: int, since: datetime, now: datetime, limit: int) -> list[TodoItem]:
    """Bad reviews written since `since` that the shop has not answered."""
    rows = (
        bad_reviews_unanswered(shop_id=shop_id)
        .filter(created_at__gt=since)
        .order_by("-created_at", "-id")
        .values("pk", "rating", "created_at", "reply_deadline", "order__order_no")[:limit]
    )
    return [
        TodoItem(
            key=todo_key("review_bad", r["pk"]),
            at=r["created_at"],
            title=_("新的差评"),
            detail=f"{r['rating']}★ · {r['order__order_no']}",
            url=f"/reviews/?review={r['pk']}",
            deadline=r["reply_deadline"],
        )
        for r in rows
    ]


def review_todos_register() -> None:
    todo_source_register(TodoSource(name="review_bad", label=_("新的差评"), items=bad_review_todos))
