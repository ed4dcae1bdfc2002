"""A rolling restart under load loses nothing: the short version of tests/perf/rolling_restart.py on the suite's database.

gunicorn (shop_admin/gunicorn.conf.py) and an RQ worker run as child processes on the test database and the suite's
Redis; gunicorn gets SIGHUP twice and the worker SIGTERM while it runs a job, as orders are submitted and paid.
"""
import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.perf.rolling_restart import rolling_restart_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rolling_restart_answers_every_request_and_applies_every_job_once(redis_conn, tmp_path):
    # the children use the database this test uses (the test database, not DATABASE_URL's) and the suite's Redis
    database_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}"))
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp_path / "media")}

    figures, problems = rolling_restart_run(env=env, orders=150, threads=8, unpaid_every=3, log_dir=tmp_path)

    assert problems == [], problems
    assert figures["no answer or 5xx"] == 0
    paid, due = figures["orders paid (each callback sent twice) / left unpaid and fallen due"].split(" / ")
    assert int(paid) == 100 and int(due) == 50
