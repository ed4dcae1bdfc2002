"""The deadline queue: every deadline a shop must act on, from the kinds the apps register, merged nearest first.

An app registers a kind (like a to-do source) with `select(*, shop_ids, now, until, after)`: a QuerySet of that kind's
rows due by `until` and after the position `after` (None: from the start), ordered by (due_at, pk), each one bounded
range on an index of its own table (`queue_rows` does the filtering and ordering), giving the columns `queue_values`
names; and `row(**columns)`, which makes a `QueueRow` of one. The queue reads one row more than a page of every kind in
ONE statement (a UNION ALL of the kinds' limited ranges, ordered by (due_at, kind, pk)): a page costs one round trip and
one short index read per kind whatever the shop's size (tests/perf/deadline_queue.py). A kind may instead give
`rows(*, shop_ids, now, until, after, limit)` (a list of `QueueRow`), read by a statement of its own and merged.
Adding a kind is one `deadline_queue_register` in that app's `ready()` (aftersale adds review replies that way).
"""
import base64
import binascii
import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import CharField, F, Q, QuerySet, Value
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shop_admin.kernel.api import CURSOR_PK_MAX, api_datetime_check
from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.permissions import user_can

QUEUE_WITHIN_DEFAULT = timedelta(hours=24)
QUEUE_WITHIN_MAX = timedelta(days=30)
_WITHIN = re.compile(r"^\s*(\d{1,4})\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class QueuePosition:
    """Where a page ended: rows come strictly after (due_at, kind, pk)."""

    due_at: datetime
    kind: str
    pk: int


@dataclass(frozen=True)
class QueueRow:
    kind: str  # the kind's name: ship, aftersale_reply, return_receipt, inspection, exception, recovery, ...
    shop_id: int
    pk: int  # the row of the kind's own table (an order, a case, an exception)
    due_at: datetime
    order_no: str
    detail: str  # what it is, in a few words (a case type, an exception kind)
    url: str  # the console page where it is acted on
    aftersale_id: int | None = None
    exception_id: int | None = None
    review_id: int | None = None


@dataclass(frozen=True)
class QueueKind:
    name: str
    label: Any  # lazy translation
    action: str  # what the merchant does: ship, reply, receive, inspect, resolve, recover
    action_label: Any
    perm: str  # the permission the action needs (Perm); a role without it sees the row without the button
    select: Callable[..., QuerySet] | None = None  # `queue_values` rows in (due, pk) order, read with the other kinds at once
    row: Callable[..., QueueRow] | None = None  # a QueueRow of one of them: row(pk=, shop_id=, due_at=, order_no=, detail=)
    rows: Callable[..., list[QueueRow]] | None = None  # or: the rows themselves, by a statement of the kind's own


_kinds: dict[str, QueueKind] = {}


def deadline_queue_register(kind: QueueKind) -> None:
    if kind.name in _kinds and _kinds[kind.name] != kind:
        raise ValueError(f"deadline queue kind {kind.name!r} is registered twice")
    _kinds[kind.name] = kind


def deadline_queue_kinds() -> list[QueueKind]:
    return list(_kinds.values())


def deadline_queue_kind(name: str) -> QueueKind | None:
    return _kinds.get(name)


def queue_rows(qs: QuerySet, *, due: str, until: datetime, after: tuple[datetime, int] | None, shift: timedelta = timedelta(0)) -> QuerySet:
    """`qs` narrowed to rows due by `until` and after `after` (due_at, pk), in (due, pk) order.

    `shift`: the deadline is the column plus `shift` (a recovery window closes a fixed time after cancelling), so the
    bounds move instead of the column and the index on the column still serves the range.
    """
    qs = qs.filter(**{f"{due}__lte": until - shift})
    if after is not None:
        moment, pk = after[0] - shift, after[1]
        # The redundant `>=` lets the index start at the position instead of filtering every row before it.
        qs = qs.filter(Q(**{f"{due}__gte": moment}), Q(**{f"{due}__gt": moment}) | Q(**{due: moment, "pk__gt": pk}))
    return qs.order_by(due, "pk")


QUEUE_COLUMNS = ("queue_pk", "queue_shop_id", "queue_due_at", "queue_order_no", "queue_detail")


def queue_values(qs: QuerySet, *, due, order_no, detail=None) -> QuerySet:
    """`qs` (narrowed and ordered by `queue_rows`) as the columns every kind gives, in one order, so that the kinds of a
    page are read in one UNION: `due`, `order_no` and `detail` are expressions (F("ship_deadline"), F("order__order_no"))."""
    return qs.annotate(
        queue_pk=F("pk"), queue_shop_id=F("shop_id"), queue_due_at=due, queue_order_no=order_no,
        queue_detail=detail if detail is not None else Value("", output_field=CharField()),
    ).values(*QUEUE_COLUMNS)


def _selected_rows(sources: list[QueueKind], *, shop_ids: set[int], now: datetime, until: datetime, after: QueuePosition | None,
                   limit: int) -> list[QueueRow]:
    """At most `limit` rows of the `select` kinds, nearest first, in one statement."""
    parts = [
        kind.select(shop_ids=shop_ids, now=now, until=until, after=_kind_after(kind.name, after))
        .annotate(queue_kind=Value(kind.name, output_field=CharField()))[:limit]
        for kind in sources
    ]
    if not parts:
        return []
    combined = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    # At most `limit` rows a kind: sorted here, in the queue's (due_at, kind, pk) order whatever the database's collation.
    found = sorted(combined, key=lambda v: (v["queue_due_at"], v["queue_kind"], v["queue_pk"]))[:limit]
    return [
        _kinds[v["queue_kind"]].row(pk=v["queue_pk"], shop_id=v["queue_shop_id"], due_at=v["queue_due_at"], order_no=v["queue_order_no"],
                                    detail=v["queue_detail"])
        for v in found
    ]


def deadline_queue_kind_rows(kind: QueueKind, *, shop_ids: set[int], now: datetime, until: datetime, after=None, limit: int = 50):
    """One kind's rows on their own (a census, a test)."""
    if kind.rows is not None:
        return kind.rows(shop_ids=shop_ids, now=now, until=until, after=after, limit=limit)
    position = QueuePosition(due_at=after[0], kind=kind.name, pk=after[1]) if after else None
    return _selected_rows([kind], shop_ids=shop_ids, now=now, until=until, after=position, limit=limit)


def within_parse(text: str | None) -> timedelta:
    """`2h`, `90m`, `3d` (at most 30 days); empty: 24 h. Anything else is a 422 naming `within`."""
    if not text:
        return QUEUE_WITHIN_DEFAULT
    match = _WITHIN.match(text)
    if match:
        value = timedelta(**{_UNITS[match[2]]: int(match[1])})
        if timedelta(0) < value <= QUEUE_WITHIN_MAX:
            return value
    raise Invalid(
        _("within 无效：须为 30m、2h、3d 这样的时长，最长 30 天"),
        code="invalid_input",
        details={"fields": {"within": _("须为 30m、2h、3d 这样的时长，最长 30 天")}},
    )


def queue_cursor_encode(row: QueueRow) -> str:
    return base64.urlsafe_b64encode(f"{row.due_at.isoformat()}|{row.kind}|{row.pk}".encode()).decode()


def queue_cursor_decode(cursor: str) -> QueuePosition:
    """The position a `next_cursor` names; anything else, a forged one included, is a 422 naming `cursor`."""
    try:
        stamp, kind, raw_pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        pk = int(raw_pk)
        moment = parse_datetime(stamp)
        if moment is None or not 0 < pk <= CURSOR_PK_MAX or kind not in _kinds:
            raise ValueError
        return QueuePosition(due_at=api_datetime_check(moment), kind=kind, pk=pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(_("cursor 无效"), code="invalid_cursor", details={"fields": {"cursor": _("请使用上一页返回的 next_cursor")}}) from None


def _kind_after(name: str, position: QueuePosition | None) -> tuple[datetime, int] | None:
    """The position in one kind's own (due_at, pk) order equivalent to the queue's (due_at, kind, pk) position."""
    if position is None:
        return None
    if name == position.kind:
        return position.due_at, position.pk
    # Rows due at the same moment sort by kind name: a later kind takes all of them, an earlier one none.
    return position.due_at, (0 if name > position.kind else CURSOR_PK_MAX)


def deadline_queue(
    *, shop_ids: set[int], now: datetime, within: timedelta = QUEUE_WITHIN_DEFAULT, kinds: list[str] | None = None,
    after: QueuePosition | None = None, limit: int = 50,
) -> tuple[list[QueueRow], QueuePosition | None]:
    """The shops' deadlines due by `now + within` (the overdue included), nearest first, and where the next page starts."""
    until = now + within
    sources = [kind for name, kind in _kinds.items() if kinds is None or name in kinds]
    found = [
        kind.rows(shop_ids=shop_ids, now=now, until=until, after=_kind_after(kind.name, after), limit=limit + 1)
        for kind in sources if kind.rows is not None
    ]
    found.append(
        _selected_rows([k for k in sources if k.rows is None], shop_ids=shop_ids, now=now, until=until, after=after, limit=limit + 1)
    )
    merged = list(heapq.merge(*found, key=lambda row: (row.due_at, row.kind, row.pk)))[: limit + 1]
    page = merged[:limit]
    more = len(merged) > limit
    last = page[-1] if more else None
    return page, (QueuePosition(due_at=last.due_at, kind=last.kind, pk=last.pk) if last else None)


@dataclass(frozen=True)
class QueueEntry:
    """A row as a user sees it: its kind, whether it is overdue, and the action when the user's role allows it."""

    row: QueueRow
    kind: QueueKind
    overdue: bool
    action_allowed: bool


def deadline_queue_for(
    *, user, shop_ids: set[int], now: datetime, within: str | None = None, kind: str | None = None, cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[QueueEntry], str | None]:
    """One page of the queue as the console and the API show it: the inputs as given (422 naming a bad one), the next cursor."""
    window = within_parse(within)
    if kind and kind not in _kinds:
        raise Invalid(
            _("未知的到期类型：%(kind)s") % {"kind": kind},
            code="invalid_input",
            details={"fields": {"kind": _("可选：%(kinds)s") % {"kinds": ", ".join(_kinds)}}},
        )
    after = queue_cursor_decode(cursor) if cursor else None
    rows, position = deadline_queue(shop_ids=shop_ids, now=now, within=window, kinds=[kind] if kind else None, after=after, limit=limit)
    entries = [
        QueueEntry(
            row=row, kind=_kinds[row.kind], overdue=row.due_at < now,
            action_allowed=user_can(user=user, shop_id=row.shop_id, perm=_kinds[row.kind].perm),
        )
        for row in rows
    ]
    next_cursor = queue_cursor_encode(rows[-1]) if position is not None else None
    return entries, next_cursor
