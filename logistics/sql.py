"""Hand-written SQL of logistics: the daily route statistics."""
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

# Per shop and route, over the parcels signed within the window: the transit time (shipped -> signed) and the largest
# gap between consecutive scans (shipping counts as the first point, signing as the last; scans after signing and
# before shipping are left out), each as p50/p95 (percentile_cont: interpolated, as the tests compute them). Only what
# was known at `now` counts, so a replay (the backtest) sees the history as it stood then.
_ROUTE_STATS_INSERT = """
WITH delivered AS (
    SELECT s.id, s.shop_id, s.carrier, s.origin_province, s.destination_province, s.shipped_at, s.signed_at
    FROM logistics_shipment s
    WHERE s.status = 'signed' AND s.signed_at IS NOT NULL AND s.signed_at > s.shipped_at AND s.signed_at >= %(since)s AND s.signed_at <= %(now)s
      AND (%(all_shops)s OR s.shop_id = ANY(%(shop_ids)s))
),
points AS (
    SELECT d.id, d.shipped_at AS at FROM delivered d
    UNION ALL
    SELECT d.id, e.occurred_at FROM delivered d
    JOIN logistics_trackingevent e ON e.shipment_id = d.id AND e.occurred_at > d.shipped_at AND e.occurred_at < d.signed_at
    UNION ALL
    SELECT d.id, d.signed_at FROM delivered d
),
gaps AS (
    SELECT id, max(at - previous) AS largest_gap
    FROM (SELECT id, at, lag(at) OVER (PARTITION BY id ORDER BY at) AS previous FROM points) p
    GROUP BY id
)
INSERT INTO logistics_routestat
    (shop_id, carrier, origin_province, destination_province, delivered,
     transit_p50, transit_p95, idle_p50, idle_p95, computed_at)
SELECT d.shop_id, d.carrier, d.origin_province, d.destination_province, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d.signed_at - d.shipped_at),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY d.signed_at - d.shipped_at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY g.largest_gap),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY g.largest_gap),
       %(now)s
FROM delivered d JOIN gaps g ON g.id = d.id
GROUP BY d.shop_id, d.carrier, d.origin_province, d.destination_province
"""


def route_stats_refresh(*, now: datetime, shop_ids: list[int] | None = None) -> int:
    """Recompute the route statistics of these shops (None: every shop) in one transaction; returns the routes written.

    Replaced whole rather than updated: a route that fell out of the window goes, and readers see the old or the new
    figures, never a mix.
    """
    params = {
        "since": now - settings.LOGISTICS_ROUTE_STATS_WINDOW, "now": now,
        "all_shops": shop_ids is None, "shop_ids": list(shop_ids or []),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logistics_routestat WHERE %(all_shops)s OR shop_id = ANY(%(shop_ids)s)", params)
        cursor.execute(_ROUTE_STATS_INSERT, params)
        return cursor.rowcount

