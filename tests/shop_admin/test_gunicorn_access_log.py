"""gunicorn's access log (ACCESS_LOG=1) under shop_admin/gunicorn.conf.py: a line per request, none for the probes.

gunicorn runs as `make fleet` runs it (the project preloaded in the master, production settings) on the suite's
database, its output read after it stops. The page asked is an API answer (401 without a token): a console page
would need `collectstatic`'s manifest under production settings. The project's LOGGING once named gunicorn's access logger, which removed the
handler gunicorn had given it: ACCESS_LOG=1 wrote nothing at all.
"""
import http.client
import json
import os
import signal
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.perf.rolling_restart import PROXY_HEADERS, SERVER_ENV, free_port, gunicorn_start, stop, wait_ready

pytestmark = pytest.mark.django_db


def _get(port: int, path: str, request_id: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={**PROXY_HEADERS, "X-Request-ID": request_id})
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_access_lines_carry_the_request_id_and_leave_out_the_probes(tmp_path, log_format):
    database_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}"))
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": database_url, "ACCESS_LOG": "1", "LOG_FORMAT": log_format,
           "LOG_LEVEL": "INFO", "MEDIA_ROOT": str(tmp_path / "media")}
    port = free_port()
    log = tmp_path / "gunicorn.log"
    web = gunicorn_start(env, port, log)
    try:
        wait_ready(port, web)  # polls /healthz
        statuses = [_get(port, "/readyz", "probe-1"), _get(port, "/api/v1/shops", "page-2"), _get(port, "/healthz", "probe-3")]
        os.kill(web.pid, signal.SIGHUP)  # gunicorn sets its logger up again: the shape must survive a reload
        wait_ready(port, web)
        statuses.append(_get(port, "/api/v1/shops", "page-4"))
    finally:
        stop(web)
    lines = log.read_text().splitlines()
    assert statuses == [200, 401, 200, 401], lines[-20:]

    access = [line for line in lines if '"GET /' in line]
    assert not [line for line in access if "/healthz" in line or "/readyz" in line], access
    pages = [line for line in access if "/api/v1/shops" in line]
    assert len(pages) == 2, lines  # one each, not doubled by the reload
    if log_format == "json":
        entries = [json.loads(line) for line in pages]
        assert [(e["logger"], e["level"], e["request_id"]) for e in entries] == [
            ("gunicorn.access", "INFO", "page-2"), ("gunicorn.access", "INFO", "page-4")]
    else:
        assert pages[0].endswith(" page-2") and pages[1].endswith(" page-4"), pages
