"""gunicorn's settings for the console and the API (`gunicorn -c shop_admin/gunicorn.conf.py shop_admin.wsgi -b ...`)."""
import os

wsgi_app = "shop_admin.wsgi:application"
# WEB_CONCURRENCY as Heroku-style hosts set it; 2*cores+1 on a host of its own (README, Scaling out).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# A request that takes longer than this is a stuck worker (the slowest pages answer in a few seconds; CSV work runs as jobs).
timeout = 30
# SIGHUP (a deploy) or SIGTERM: each old worker finishes the request it holds, for up to this long, while the master keeps
# the listening socket open and new workers take the next connections: a rolling restart answers every request
# (tests/perf/rolling_restart.py). It must cover the slowest request, hence equal to `timeout`.
graceful_timeout = 30
# Not preloaded: a SIGHUP after a deploy loads the new code in the new workers.
preload_app = True
# Connections queued while workers restart wait here instead of being refused.
backlog = 2048
# gunicorn 27 opens a control socket under ~/.gunicorn by default, shared by every gunicorn of the user on the machine;
# several fleets (and the benchmarks) run side by side here, and nothing uses it.
control_socket_disable = True
# The access log goes to stdout only when asked (ACCESS_LOG=1): the proxy in front logs every request already. Its lines
# leave out the balancer's probes, carry the request id and follow LOG_FORMAT (shop_admin/accesslog.py).
accesslog = "-" if os.environ.get("ACCESS_LOG") == "1" else None
logger_class = "shop_admin.accesslog.AccessLogger"
