"""The bare floor: a Django + django-ninja app as a team would start it, with no project middleware or apps.

Served by gunicorn in `tests/perf/run.py` (never in production) beside the project, on the same database and
with the same persistent connections (DB_CONN_MAX_AGE), so what differs is only what the project puts around a
request: its middleware, apps, URL conf and templates. Its one endpoint, `POST /perf-floor/take` (urls.py), does
exactly what the in-project floor (tests/perf/floor.py) does.
"""
import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", "perf-bare-" + "x" * 50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.perf.bare.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
TEMPLATES: list[dict] = []
USE_TZ = True
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None
