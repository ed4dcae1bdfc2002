"""The clock of the demo month: when orders are placed (a shop's week and day) and how an order moves back in time."""
import logging
import random
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from functools import lru_cache

from django.db import connection, models
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from orders.models import Order
from orders.services.submit import order_no_generate

DEMO_DAYS = 30  # the dashboard's charts
ORDERS_SHOP_1 = 170
ORDERS_SHOP_2 = 30
# Monday .. Sunday: weekends are busier (the charts show it).
WEEKDAY_WEIGHT = (0.8, 0.75, 0.85, 0.9, 1.1, 1.6, 1.5)
# Per hour of the day, shop time: a lunch bump and the evening live-stream peak, about half the orders 19:00-23:00.
HOUR_WEIGHT = (2.5, 1.2, 0.6, 0.4, 0.3, 0.4, 0.8, 1.5, 2.5, 3, 3.5, 4, 5.5, 5, 3.5, 3.5, 3.5, 4, 5.5, 12, 16, 18, 15, 7)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@contextmanager
def cache_warnings_muted():
    """Each demo order drops the cached order counts when the seed commits: without Redis that is one "cache delete
    skipped" warning per service call, hundreds of lines. The outage is said once already (the deadline warning,
    and `make run`'s redis_check)."""
    log = logging.getLogger("shop_admin.kernel.cache")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


# --- moving orders back in time ---


@lru_cache(maxsize=1)
def order_history() -> list[tuple[type[models.Model], str, str, list[str]]]:
    """Order and every model that points at it, each with its key to the order (field, column) and its datetime fields.

    Found from the models, so a table added later (tracking events, after-sale messages...) moves too. The
    presale balance deadline stays: it is the product's calendar date, not a time of the order's own story.
    """
    def datetimes(model, skip=()):
        return [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField) and f.name not in skip]

    history = [(Order, "pk", Order._meta.pk.column, datetimes(Order, skip={"balance_deadline"}))]
    seen = {Order}
    # Hidden relations too: apps that point at orders without a reverse accessor (related_name="+") are history as well.
    for relation in Order._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        model = relation.related_model
        if model in seen or not datetimes(model):
            continue
        seen.add(model)
        history.append((model, relation.field.attname, relation.field.column, datetimes(model)))
    return history


def orders_move_back(deltas: dict[int, timedelta], chunk: int = 200) -> None:
    """Demo data: orders move back in time as a whole, each by its own delta.

    Every time of the order and of the rows that hang off it moves by the same amount, so intervals, deadlines
    still to come and the order of the timeline stay what the services made them; the order number, which
    carries the time of ordering, is made again for the new time.
    """
    ids = [pk for pk, delta in deltas.items() if delta]
    duration = models.DurationField()
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        # One UPDATE per table; the per-order delta is a plain SQL CASE (an ORM Case of hundreds of Whens costs seconds to build).
        params = [value for pk in part for value in (pk, duration.get_db_prep_value(deltas[pk], connection))]
        whens = " ".join(["WHEN %s THEN %s"] * len(part))
        for model, key, column, fields in order_history():
            shift = RawSQL(f"CASE {connection.ops.quote_name(column)} {whens} END", params, output_field=duration)
            model._base_manager.filter(**{f"{key}__in": part}).update(**{f: F(f) - shift for f in fields})
        numbers = {}
        for pk, buyer_id, kind, created_at in Order.objects.filter(pk__in=part).values_list("pk", "buyer_id", "kind", "created_at"):
            number = order_no_generate(buyer_id=buyer_id, kind=kind, at=created_at)
            while number in numbers.values():
                number = order_no_generate(buyer_id=buyer_id, kind=kind, at=created_at)
            numbers[pk] = number
        renumber = RawSQL(
            f"CASE {connection.ops.quote_name(Order._meta.pk.column)} {' '.join(['WHEN %s THEN %s'] * len(numbers))} END",
            [value for pk, number in numbers.items() for value in (pk, number)],
            output_field=models.CharField(),
        )
        Order.objects.filter(pk__in=part).update(order_no=renumber)


# --- when orders are placed ---


class Rhythm:
    """Order times over the last DEMO_DAYS days, weighted per hour by weekday and hour of day (shop time)."""

    def __init__(self, now: datetime, rng: random.Random):
        self.rng = rng
        self.now = now
        zone = timezone.get_default_timezone()
        self.start = datetime.combine(timezone.localdate(now) - timedelta(days=DEMO_DAYS - 1), time.min, tzinfo=zone)
        self.slots = []  # (start, end, weight per second)
        at = self.start
        while at < now:
            local = timezone.localtime(at)
            end = min(at + HOUR, now)
            self.slots.append((at, end, WEEKDAY_WEIGHT[local.weekday()] * HOUR_WEIGHT[local.hour]))
            at += HOUR

    def sample(self, lo: datetime, hi: datetime) -> datetime:
        """A time in [lo, hi] (clipped to the month), as likely as a shop makes it."""
        lo, hi = max(lo, self.start), min(hi, self.now)
        spans, weights = [], []
        for start, end, weight in self.slots:
            a, b = max(start, lo), min(end, hi)
            if a < b:
                spans.append((a, b))
                weights.append(weight * (b - a).total_seconds())
        if not spans:
            return lo
        a, b = self.rng.choices(spans, weights=weights)[0]
        return a + (b - a) * self.rng.random()


# --- the story of one order ---
