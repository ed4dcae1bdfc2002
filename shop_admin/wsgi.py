"""WSGI entry point for gunicorn."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
application = get_wsgi_application()

# The URL conf (and with it every view module and the API's schemas) is otherwise imported by a worker's first request:
# measured after a SIGHUP on a loaded 2-core machine, that first request waited seconds. Imported here, it is loaded
# once in gunicorn's master (preload_app) and every new worker forks with it (tests/perf/rolling_restart.py).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018  reading it is what loads the URL conf

# What loading the project made (about 120,000 objects: modules, models, URL patterns, settings) lives as long as
# the worker. Frozen, Python's full garbage collections no longer walk it: measured in a loaded worker, a full
# collection paused for about a request's time, landing on whichever request triggered it; frozen, a
# fifteenth of that (tests/perf/README.md).
gc.freeze()
