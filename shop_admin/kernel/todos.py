"""Live to-dos of the console's bell: what needs the user now, from the sources the apps register.

An app registers a source (like a dashboard tile): a function giving the newest to-dos of one shop (a new paid
order, an exception raised, a case opened, a deadline within `TODO_DUE_SOON`), each with a key unique across
sources. The bell merges them, newest first. Read/unread per user and shop costs two small tables whatever the
number of orders: a "seen up to" marker (mark all read) and one row per to-do read since that marker. Every
source query is a bounded range on an index of its own table (`limit` rows at most), so the bell's poll stays
cheap at a million orders.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.models import TodoRead, TodoSeen

TODO_SOURCE_LIMIT = 20  # newest to-dos asked of each source; also where the count shows "20+"
TODO_SHOWN = 10  # to-dos listed under the bell
TODO_PAGE_SOURCE_LIMIT = 200  # to-dos asked of each source by the "see all" page (/todos/), within the same window
KEY_PATTERN = re.compile(r"^(?P<source>[a-z_]{1,40}):(?P<pk>\d{1,20})$")


@dataclass(frozen=True)
class TodoItem:
    key: str  # "<source name>:<pk>"
    at: datetime  # when it became a to-do (a deadline: `TODO_DUE_SOON` before it); newest first, read if before the marker
    title: Any
    detail: str
    url: str
    deadline: datetime | None = None


@dataclass(frozen=True)
class TodoSource:
    """`items(*, shop_id, since, now, limit)` gives at most `limit` to-dos of the shop that arose after `since`, newest first."""

    name: str
    label: Any
    items: Callable[..., list[TodoItem]]


@dataclass(frozen=True)
class TodoEntry:
    item: TodoItem
    unread: bool


@dataclass(frozen=True)
class TodoFeed:
    entries: list[TodoEntry]
    unread_count: int
    unread_capped: bool  # more unread than the sources were asked for: show "N+"


_sources: dict[str, TodoSource] = {}


def todo_source_register(source: TodoSource) -> None:
    _sources.setdefault(source.name, source)


def todo_sources() -> list[TodoSource]:
    return list(_sources.values())


def todo_key(source: str, pk: int) -> str:
    return f"{source}:{pk}"


def deadline_close_todos(
    rows, *, source: str, deadline: str, since: datetime, now: datetime, limit: int, title: Any, detail: str, url: Callable[[dict], str]
) -> list[TodoItem]:
    """The to-dos of a deadline coming close: the rows of `rows` (a queryset, already narrowed to the shop and to what the
    deadline still runs on) whose `deadline` falls within `TODO_DUE_SOON` of now and became close after `since`, newest
    first; each a to-do from `TODO_DUE_SOON` before its deadline, showing the row's `detail` field and linking to `url(row)`."""
    due = (
        rows.filter(**{f"{deadline}__gt": since, f"{deadline}__lte": now + settings.TODO_DUE_SOON})
        .order_by(f"-{deadline}", "-id")
        .values("pk", deadline, detail)[:limit]
    )
    return [
        TodoItem(
            key=todo_key(source, row["pk"]),
            at=row[deadline] - settings.TODO_DUE_SOON,
            title=title,
            detail=row[detail],
            url=url(row),
            deadline=row[deadline],
        )
        for row in due
    ]


def deadline_todo_source(
    *, name: str, label: Any, rows: Callable[[int], Any], deadline: str, detail: str, url: Callable[[dict], str]
) -> TodoSource:
    """A source of the to-dos of a deadline coming close (`deadline_close_todos`), titled with its label: `rows(shop_id)`
    is the shop's rows the deadline still runs on."""

    def items(*, shop_id: int, since: datetime, now: datetime, limit: int) -> list[TodoItem]:
        return deadline_close_todos(
            rows(shop_id), source=name, deadline=deadline, since=since, now=now, limit=limit, title=label, detail=detail, url=url
        )

    return TodoSource(name=name, label=label, items=items)


def todo_feed(
    *, user_id: int, shop_id: int, now: datetime, shown: int | None = TODO_SHOWN, source_limit: int = TODO_SOURCE_LIMIT
) -> TodoFeed:
    """The bell of one user in one shop: the newest to-dos of every source, each read or unread, and the unread count.

    The bell shows `shown`; the "see all" page asks each source for more (`source_limit`) and shows them all (None).
    """
    since = now - settings.TODO_WINDOW
    items: list[TodoItem] = []
    capped = False
    for source in _sources.values():
        found = source.items(shop_id=shop_id, since=since, now=now, limit=source_limit)
        capped = capped or len(found) >= source_limit
        items.extend(found)
    items.sort(key=lambda item: (item.at, item.key), reverse=True)
    seen_up_to = TodoSeen.objects.filter(user_id=user_id, shop_id=shop_id).values_list("seen_up_to", flat=True).first()
    read = set(
        TodoRead.objects.filter(user_id=user_id, shop_id=shop_id, key__in=[item.key for item in items]).values_list("key", flat=True)
    )
    entries = [
        TodoEntry(item=item, unread=(seen_up_to is None or item.at > seen_up_to) and item.key not in read) for item in items
    ]
    unread_count = sum(entry.unread for entry in entries)
    # The unread first, so that a busy shop's older unread to-dos are not pushed out by read ones.
    shown_entries = sorted(entries, key=lambda e: not e.unread)[:shown]
    return TodoFeed(entries=shown_entries, unread_count=unread_count, unread_capped=capped and unread_count >= source_limit)


def todo_mark_read(*, user_id: int, shop_id: int, key: str, now: datetime) -> None:
    """One to-do read by this user; marking it twice changes nothing."""
    match = KEY_PATTERN.match(key or "")
    if match is None or match["source"] not in _sources:
        raise Invalid("unknown to-do", details={"fields": {"key": "unknown to-do"}})
    with transaction.atomic():
        TodoRead.objects.get_or_create(user_id=user_id, shop_id=shop_id, key=key, defaults={"read_at": now})
        # Rows older than the window name to-dos the bell no longer shows: keep the table at what is on screen.
        TodoRead.objects.filter(user_id=user_id, shop_id=shop_id, read_at__lt=now - settings.TODO_WINDOW).delete()


def todo_mark_all_read(*, user_id: int, shop_id: int, now: datetime) -> None:
    """Everything that arose up to now is read: the marker moves and the per-item rows it covers go."""
    with transaction.atomic():
        TodoSeen.objects.update_or_create(user_id=user_id, shop_id=shop_id, defaults={"seen_up_to": now})
        TodoRead.objects.filter(user_id=user_id, shop_id=shop_id).delete()
