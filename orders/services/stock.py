"""Stock moves of order lines: lock on submit, release, occupy on payment, deduct on shipment.

Every move is a conditional UPDATE on the stock row (`available >= n`), so two
buyers racing for the last unit cannot both win, and the CHECK constraints of
StockLevel refuse a negative count as a last line of defence. Rows are touched
in id order so concurrent multi-line orders do not deadlock.
"""
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.constants import ExceptionKind, LineStock, OrderStatus
from orders.events import stock_returned_event
from orders.models import Order, OrderLine, StockAdjustment, StockLevel
from orders.services.exceptions import exception_open
from orders.sql import order_lines_state_set, stock_level_take, stock_levels_add
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid, NotFound
from shop_admin.kernel.text import join_list


def stock_nearest_first(levels: Iterable[StockLevel], province: str) -> dict[int, list[StockLevel]]:
    """Stock rows (with their warehouse) by SKU, the warehouse that ships first at the front."""
    by_sku: dict[int, list[StockLevel]] = defaultdict(list)
    for level in levels:
        by_sku[level.sku_id].append(level)
    for candidates in by_sku.values():
        # The nearest warehouse ships: same province first, then the shop's priority.
        candidates.sort(key=lambda s: (s.warehouse.province != province, s.warehouse.priority, s.warehouse_id))
    return by_sku


def stock_candidates(sku_ids: Iterable[int], province: str) -> dict[int, list[StockLevel]]:
    """Each SKU's stock rows, nearest warehouse first, in one query and without a lock (counts as last committed)."""
    return stock_nearest_first(StockLevel.objects.filter(sku_id__in=list(sku_ids)).select_related("warehouse"), province)


def stock_short_lines(lines: Iterable[OrderLine], candidates: dict[int, list[StockLevel]]) -> list[OrderLine]:
    """Lines that no warehouse has enough for, by the counts `candidates` read without a lock.

    This is how a sold-out SKU refuses its buyers: a plain read, which never waits
    for the row a flash sale is busy locking, instead of a conditional UPDATE that
    would queue for that row only to match nothing. The count read is the row's own,
    so stock that comes back (a cancellation, a pay timeout, a stock edit) is seen
    by the next read; a buyer who read just before it came back is refused as if
    they had asked a moment earlier.
    """
    return [
        line for line in lines
        if not any(level.available >= line.quantity for level in candidates.get(line.sku_id, []))
    ]


def _take_available(
    sku_id: int, quantity: int, province: str, *, into: str, candidates: list[StockLevel] | None = None
) -> StockLevel | None:
    """Move `quantity` units of available stock into `into` (locked or occupied) in one warehouse."""
    if candidates is None:
        candidates = stock_candidates([sku_id], province).get(sku_id, [])
    for level in candidates:
        if level.available < quantity:
            continue  # not enough as last committed: do not queue for the row lock to find the same
        if stock_level_take(level_id=level.pk, quantity=quantity, into=into):
            return level
    return None


def stock_lock_lines(
    lines: list[OrderLine], *, province: str, candidates: dict[int, list[StockLevel]] | None = None
) -> list[OrderLine]:
    """Lock stock for new (unsaved) lines; return the lines that could not be locked.

    `candidates` (from `stock_candidates`, read just before) saves reading the stock rows again.
    """
    short = []
    for line in sorted(lines, key=lambda ln: ln.sku_id):
        level = _take_available(
            line.sku_id, line.quantity, province, into="locked",
            candidates=None if candidates is None else candidates.get(line.sku_id, []),
        )
        if level is None:
            short.append(line)
        else:
            line.stock_level = level
            line.stock_state = LineStock.LOCKED
    return short


def stock_lock_written_lines(lines: list[OrderLine], *, candidates: dict[int, list[StockLevel]]) -> list[OrderLine]:
    """Lock stock for lines already written (in this transaction) with their first choice of stock row; return those short.

    Submission writes its lines before it takes the units, so that the hot stock row stays locked
    only from its UPDATE to the commit. A line whose first choice ran out since it was read takes
    the next warehouse that has enough and is pointed at it.
    """
    short = []
    for line in sorted(lines, key=lambda ln: ln.sku_id):
        chosen = line.stock_level_id
        level = _take_available(line.sku_id, line.quantity, "", into="locked", candidates=candidates.get(line.sku_id, []))
        if level is None:
            short.append(line)
        elif level.pk != chosen:
            line.stock_level = level
            OrderLine.objects.filter(pk=line.pk).update(stock_level=level)
    return short


def _apply_by_level(lines: Iterable[OrderLine], **moves: int) -> None:
    """For each stock row, add `sign * quantity` of its lines to each named column (moves: column -> sign)."""
    totals: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.stock_level_id is not None:
            totals[line.stock_level_id] += line.quantity
    stock_levels_move({pk: {column: sign * n for column, sign in moves.items()} for pk, n in totals.items()})


def stock_levels_move(moves: dict[int, dict[str, int]]) -> None:
    """Many stock rows at once (an import): stock row id -> column -> signed count, in one locked UPDATE.

    The CHECK constraints refuse a negative count, so a move the rows cannot take fails the whole transaction.
    """
    if not moves:
        return
    ids = sorted(moves)
    columns = sorted({column for delta in moves.values() for column in delta})
    # Lock the rows in id order first; the UPDATE then cannot deadlock with another batch.
    list(StockLevel.objects.select_for_update().filter(pk__any_of=ids).order_by("pk").values_list("pk", flat=True))
    stock_levels_add(ids=ids, deltas={c: [moves[pk].get(c, 0) for pk in ids] for c in columns})


def _set_state(lines: list[OrderLine], state: str) -> None:
    for line in lines:
        line.stock_state = state
    if lines:
        OrderLine.objects.filter(pk__any_of=[ln.pk for ln in lines]).update(stock_state=state)


# What a line's units do when they go back to available, by the state they leave: the one rule of a release.
_BACK_TO_AVAILABLE = {LineStock.LOCKED: {"available": +1, "locked": -1}, LineStock.OCCUPIED: {"available": +1, "occupied": -1}}


def stock_release_lines(lines: Iterable[OrderLine]) -> None:
    """Locked units go back to available (timeout, cancellation, payment failure)."""
    locked = [ln for ln in lines if ln.stock_state == LineStock.LOCKED]
    _apply_by_level(locked, **_BACK_TO_AVAILABLE[LineStock.LOCKED])
    _set_state(locked, LineStock.RELEASED)


def stock_unoccupy_lines(lines: Iterable[OrderLine]) -> None:
    """Occupied units go back to available (a paid order cancelled before shipping)."""
    occupied = [ln for ln in lines if ln.stock_state == LineStock.OCCUPIED]
    _apply_by_level(occupied, **_BACK_TO_AVAILABLE[LineStock.OCCUPIED])
    _set_state(occupied, LineStock.RELEASED)


def stock_release_orders(order_ids: list[int]) -> None:
    """Every locked or occupied line of these orders (locked by the caller) goes back to available: a cancellation,
    one order or a sweep's batch. The lines are set released and report what they held in one statement."""
    moves: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for level_id, state, units in order_lines_state_set(order_ids=order_ids, states=list(_BACK_TO_AVAILABLE), to=LineStock.RELEASED):
        for column, sign in _BACK_TO_AVAILABLE[state].items():
            moves[level_id][column] += sign * units
    stock_levels_move(moves)


def stock_unoccupy_line_rows(rows: Iterable[tuple[int, int, int]]) -> None:
    """`stock_unoccupy_lines` for occupied lines given as (line id, stock row id, quantity): a sweep's batch, no instances."""
    rows = [row for row in rows if row[1] is not None]
    totals: dict[int, int] = defaultdict(int)
    for _line_id, level_id, quantity in rows:
        totals[level_id] += quantity
    back = _BACK_TO_AVAILABLE[LineStock.OCCUPIED]
    stock_levels_move({level_id: {column: sign * n for column, sign in back.items()} for level_id, n in totals.items()})
    if rows:
        OrderLine.objects.filter(pk__any_of=[row[0] for row in rows], stock_state=LineStock.OCCUPIED).update(stock_state=LineStock.RELEASED)


def stock_return_lines(*, order: Order, lines: dict[int, int], actor: Actor, reason: str, source: str) -> list[dict]:
    """Shipped units came back sellable (a return passed inspection, an intercepted parcel reached the shop): order line id ->
    units. They go back to available in the warehouse they left, each line at most what it shipped and has not yet had back;
    one audit event. The caller holds the order's lock. Returns what moved (nothing for lines that never shipped)."""
    returned, moves = [], {}
    for line in OrderLine.objects.filter(order=order, pk__in=list(lines)).order_by("pk"):
        quantity = min(lines[line.pk], line.quantity - line.returned_quantity)
        if line.stock_state != LineStock.DEDUCTED or line.stock_level_id is None or quantity <= 0:
            continue  # never left the warehouse (its stock was released with the refund), or all of it is back already
        OrderLine.objects.filter(pk=line.pk).update(returned_quantity=F("returned_quantity") + quantity)
        moves.setdefault(line.stock_level_id, {"available": 0})["available"] += quantity
        returned.append({"line_id": line.pk, "sku_id": line.sku_id, "quantity": quantity, "stock_level_id": line.stock_level_id})
    if returned:
        stock_levels_move(moves)
        stock_returned_event(order=order, actor=actor, reason=reason, source=source, lines=returned)
    return returned


def stock_relock_lines(lines: list[OrderLine], *, province: str) -> list[OrderLine]:
    """Take the lock again for released lines (a new payment attempt); return the lines still short."""
    short = []
    for line in sorted(lines, key=lambda ln: ln.sku_id):
        if line.stock_state != LineStock.RELEASED:
            continue
        level = _take_available(line.sku_id, line.quantity, province, into="locked")
        if level is None:
            short.append(line)
            continue
        line.stock_level = level
        line.stock_state = LineStock.LOCKED
        line.save(update_fields=["stock_level", "stock_state"])
    return short


def stock_occupy_lines(lines: list[OrderLine], *, province: str) -> list[OrderLine]:
    """Payment succeeded: locked -> occupied. A released line takes fresh stock if any; else it is short (oversell)."""
    locked = [ln for ln in lines if ln.stock_state == LineStock.LOCKED]
    _apply_by_level(locked, locked=-1, occupied=+1)
    _set_state(locked, LineStock.OCCUPIED)
    short = []
    for line in sorted(lines, key=lambda ln: ln.sku_id):
        if line.stock_state not in (LineStock.RELEASED, LineStock.SHORT):
            continue
        level = _take_available(line.sku_id, line.quantity, province, into="occupied")
        line.stock_state = LineStock.OCCUPIED if level else LineStock.SHORT
        if level:
            line.stock_level = level
        else:
            short.append(line)
        line.save(update_fields=["stock_level", "stock_state"])
    return short


def stock_deduct_lines(lines: Iterable[OrderLine]) -> None:
    """Shipped: occupied units leave the warehouse."""
    occupied = [ln for ln in lines if ln.stock_state == LineStock.OCCUPIED]
    _apply_by_level(occupied, occupied=-1)
    _set_state(occupied, LineStock.DEDUCTED)


def _counts(level: StockLevel) -> dict[str, int]:
    return {"available": level.available, "locked": level.locked, "occupied": level.occupied}


def stock_set(
    *, sku_id: int, actor: Actor, on_hand: int, warehouse_id: int | None = None, force: bool = False, request_id: str | None = None
):
    """Set the units on the shelf (not yet shipped) of a SKU in a warehouse; returns the StockLevel.

    Locked and occupied units are part of what is on the shelf. Setting fewer than
    they need puts orders at risk: refused unless `force`, which then takes the
    shortfall from the newest unpaid locks first (they become short when paid) and
    then from the newest paid orders, which are flagged as oversold and held.

    Without `warehouse_id` the SKU must be stocked in exactly one warehouse: setting
    "the first" of several would leave the others selling. A `request_id` seen before
    for this SKU changes nothing and answers the level as it is.
    """
    if on_hand < 0:
        raise Invalid(_("库存不能为负数"), code="invalid_stock", details={"fields": {"available": _("须为0或正整数")}})
    with transaction.atomic():
        levels = list(StockLevel.objects.select_for_update().filter(sku_id=sku_id).select_related("warehouse").order_by("warehouse__priority", "pk"))
        if warehouse_id is None and len(levels) > 1:
            raise Invalid(
                _("该SKU在%(n)d个仓库有库存，请指定 warehouse_id") % {"n": len(levels)},
                code="warehouse_required",
                details={
                    "fields": {"warehouse_id": _("必填：%(names)s") % {"names": join_list(lv.warehouse.name for lv in levels)}},
                    "warehouses": [{"warehouse_id": lv.warehouse_id, "warehouse_name": lv.warehouse.name} for lv in levels],
                },
            )
        level = next((lv for lv in levels if warehouse_id is None or lv.warehouse_id == warehouse_id), None)
        if level is None:
            raise NotFound(_("该SKU在此仓库没有库存记录"), code="stock_not_found", details={"fields": {"warehouse_id": warehouse_id}})
        # Checked under the row locks: a concurrent twin waits above, then finds the first one's record here.
        if request_id and StockAdjustment.objects.filter(stock_level__sku_id=sku_id, request_id=request_id).exists():
            return level
        before = _counts(level)
        committed = level.locked + level.occupied
        shortfall = committed - on_hand
        oversold: list[str] = []
        if shortfall > 0 and not force:
            raise Conflict(
                _("库存%(n)d少于已锁定%(locked)d与已占用%(occupied)d之和，会造成超卖；确认后可强制修改")
                % {"n": on_hand, "locked": level.locked, "occupied": level.occupied},
                code="stock_at_risk",
                details={"on_hand": on_hand, "locked": level.locked, "occupied": level.occupied, "shortfall": shortfall},
            )
        if shortfall > 0:
            lines = (
                OrderLine.objects.select_for_update()
                .filter(stock_level=level, stock_state__in=[LineStock.LOCKED, LineStock.OCCUPIED])
                .select_related("order")
                .order_by("-order__created_at", "-pk")
            )
            # Unpaid locks give way first; then the newest paid orders.
            ordered = sorted(lines, key=lambda ln: ln.stock_state != LineStock.LOCKED)
            for line in ordered:
                if shortfall <= 0:
                    break
                shortfall -= line.quantity
                if line.stock_state == LineStock.LOCKED:
                    level.locked -= line.quantity
                    line.stock_state = LineStock.RELEASED
                else:
                    level.occupied -= line.quantity
                    line.stock_state = LineStock.SHORT
                    if line.order.status == OrderStatus.PAID:
                        exception_open(
                            order=line.order,
                            kind=ExceptionKind.OVERSELL,
                            actor=actor,
                            detail=gettext_noop("库存被改为%(n)d，%(name)s缺货"),
                            detail_params={"n": on_hand, "name": line.product_name},
                            data={"sku_id": sku_id, "quantity": line.quantity},
                        )
                    oversold.append(line.order.order_no)
                line.save(update_fields=["stock_state"])
        level.available = max(0, on_hand - level.locked - level.occupied)
        level.save(update_fields=["available", "locked", "occupied"])
        StockAdjustment.objects.create(
            stock_level=level,
            actor_kind=actor.kind,
            actor_user=actor.user,
            actor_label=actor.label[:64],
            on_hand=on_hand,
            before=before,
            after=_counts(level),
            forced=force,
            oversold_orders=oversold,
            request_id=request_id or None,
        )
    return level


def stock_occupy_elsewhere(*, line: OrderLine, sku_id: int, province: str, warehouse_id: int | None = None) -> StockLevel | None:
    """A paid line takes occupied stock of `sku_id` (in `warehouse_id`, or the nearest with stock) instead of what it had.

    For the exception remedies: a short line filled from another warehouse or by a similar SKU.
    What the line occupied before goes back to available. Returns the new stock row, or None when
    there is not enough; the caller then refuses, and its transaction puts the old occupation back.
    """
    if line.stock_state == LineStock.OCCUPIED:
        stock_unoccupy_lines([line])
    if warehouse_id is None:
        level = _take_available(sku_id, line.quantity, province, into="occupied")
    else:
        level = StockLevel.objects.filter(sku_id=sku_id, warehouse_id=warehouse_id).first()
        moved = level and StockLevel.objects.filter(pk=level.pk, available__gte=line.quantity).update(
            available=F("available") - line.quantity, occupied=F("occupied") + line.quantity
        )
        level = level if moved else None
    if level is None:
        return None
    line.stock_level = level
    line.stock_state = LineStock.OCCUPIED
    line.save(update_fields=["stock_level", "stock_state"])
    return level
