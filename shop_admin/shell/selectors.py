"""Reads that span the apps, composed for the console's dashboard."""
from datetime import date

from aftersale.selectors import aftersale_daily_counts
from orders.selectors import dashboard_trend


def dashboard_trend_with_aftersale(*, shop_id: int) -> list[dict]:
    """Orders' 30-day trend with each day's after-sale rate: cases opened per paid order, in percent."""
    trend = dashboard_trend(shop_id=shop_id)
    cases = aftersale_daily_counts(
        shop_id=shop_id, start=date.fromisoformat(trend[0]["day"]), end=date.fromisoformat(trend[-1]["day"])
    )
    for day in trend:
        opened = cases.get(date.fromisoformat(day["day"]), 0)
        day["aftersale_rate"] = round(100 * opened / day["paid_orders"], 1) if day["paid_orders"] else 0
    return trend
