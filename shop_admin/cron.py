"""RQ cron: the periodic sweep that catches any deadline whose wake-up job was lost (`manage.py rqcron shop_admin.cron`)."""
from django.conf import settings
from rq import cron

from shop_admin.kernel.deadlines import QUEUE_NAME, deadlines_sweep_job

cron.register(deadlines_sweep_job, QUEUE_NAME, interval=settings.SWEEP_INTERVAL_SECONDS, job_timeout=1800)

# The daily reconciliation of yesterday (shop time); its result is kept for the console and `manage.py reconcile` re-runs it.
from orders.reconcile import reconcile_yesterday_job  # noqa: E402

cron.register(reconcile_yesterday_job, "default", cron=settings.RECONCILE_CRON, job_timeout=3600)

# The dashboard trend's daily rollup: the past days whose orders changed since the last run.
from orders.daystats import order_day_stats_refresh_job  # noqa: E402

cron.register(order_day_stats_refresh_job, "default", interval=settings.ORDER_DAY_STATS_INTERVAL_SECONDS, job_timeout=1800)

# Each shop's route statistics (transit and scan-gap p50/p95), read by the delivery alert and the at-risk list.
from logistics.jobs import route_stats_refresh_job  # noqa: E402

cron.register(route_stats_refresh_job, "default", cron=settings.LOGISTICS_ROUTE_STATS_CRON, job_timeout=3600)
