"""The balancer's probes (/healthz, /readyz) and the request id every response, log line and job carries."""
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import django_rq
import pytest
from django.test import Client
from rq.job import Job

from shop_admin.kernel.logfilters import JsonFormatter, current_request_id
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def job_request_id() -> str | None:
    """Enqueued by a test: what the job sees as its request id while the worker performs it."""
    return current_request_id.get()


def job_logs_a_line() -> None:
    """Enqueued by a test: a job's own log line."""
    logging.getLogger("orders").warning("job line of the test")


@pytest.fixture
def console_log():
    """What the configured console handler writes (its formatter and filters as in production), as text."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console" or isinstance(h, logging.StreamHandler))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_healthz_answers_without_touching_the_database_whatever_the_host():
    # No django_db mark: any query would raise here. A balancer probes by address, not by name.
    response = Client().get("/healthz", HTTP_HOST="10.0.3.7")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_migrations_redis_and_replicas():
    response = Client().get("/readyz", HTTP_HOST="10.0.3.7")
    assert response.status_code == 200, response.content
    assert response.json() == {"database": "ok", "migrations": "ok", "redis": "ok", "replicas": {}}


@pytest.mark.django_db
def test_readyz_is_503_naming_redis_when_redis_is_down(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nobody listens there
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["redis"] == "down" and body["database"] == "ok"


def test_readyz_is_503_naming_the_database_when_the_primary_is_down():
    # A process of its own whose DATABASE_URL names a port nobody listens on: the primary is down from its start.
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/shop", "DJANGO_SETTINGS_MODULE": "shop_admin.settings"}
    script = ("import django, json; django.setup(); from django.test import Client; "
              "answer = Client().get('/readyz'); print('READYZ', answer.status_code, json.dumps(answer.json()))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    line = next((line for line in done.stdout.splitlines() if line.startswith("READYZ ")), done.stdout + done.stderr)
    _, status, body = line.split(" ", 2)
    assert status == "503"
    assert json.loads(body) == {"database": "down", "migrations": "unknown", "redis": "ok", "replicas": {}}


@pytest.mark.django_db
def test_readyz_reports_a_replica_that_is_down_but_stays_ready(settings):
    from django.db import connections

    replica = {**connections.settings["default"], "HOST": "127.0.0.1", "PORT": "1", "OPTIONS": {"connect_timeout": 1}}
    connections.settings["replica0"] = replica  # nobody listens on port 1: a standby that is down
    settings.DATABASES = {**settings.DATABASES, "replica0": replica}
    try:
        response = Client().get("/readyz")
    finally:
        connections["replica0"].close()
        del connections["replica0"]  # the connection object too: a later test's replica0 must not inherit port 1
        del connections.settings["replica0"]
    assert response.status_code == 200
    assert response.json()["replicas"] == {"replica0": {"status": "down"}}


@pytest.mark.django_db
def test_the_probes_are_never_rate_limited(settings):
    # every limit on and at its tightest: a balancer probing each node every second must never meet one
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {scope: "1/m" for scope in settings.API_RATE_LIMITS}
    client = Client()
    answers = [client.get(path, headers={"X-Forwarded-For": "10.0.3.7"}).status_code for path in ("/healthz", "/readyz") * 5]
    assert answers == [200] * 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "kept"),
    [("req-42.a_B", True), ("x" * 64, True), ("x" * 65, False), ("bad id", False), ("a\nforged line", False), (None, False)],
)
def test_every_response_carries_a_request_id_taken_when_well_formed(sent, kept):
    headers = {"X-Request-ID": sent} if sent is not None else {}
    response = Client().get("/login/", headers=headers)
    answered = response.headers["X-Request-ID"]
    if kept:
        assert answered == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", answered)


@pytest.mark.django_db
def test_a_request_s_log_lines_carry_its_id(console_log):
    Client().get("/api/v1/no-such-endpoint", headers={"X-Request-ID": "trace-404"})
    Client().get("/definitely-not-a-page/", headers={"X-Request-ID": "trace-html-404"})
    lines = console_log.getvalue().splitlines()
    assert any("trace-html-404" in line and "Not Found" in line for line in lines), lines


def test_json_log_lines_are_one_object_each_with_the_request_id():
    record = logging.LogRecord("orders", logging.WARNING, __file__, 1, "订单 %s 超时", ("123",), None)
    record.request_id = "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "订单 123 超时" and entry["request_id"] == "abc" and entry["level"] == "WARNING"


@pytest.mark.django_db(transaction=True)
def test_a_job_enqueued_by_a_request_carries_its_id_in_its_meta_and_while_it_runs(buyer_api, shop, redis_conn):
    sku = factories.make_sku(shop, stock=5)
    buyer_api_headers = {"X-Request-ID": "submit-7"}
    status, body = buyer_api.post("/orders", factories.order_payload(shop, (sku, 1)), headers=buyer_api_headers)
    assert status == 201, body
    # The submission scheduled its pay-timeout wake-up: that job remembers the request.
    scheduled = django_rq.get_queue("deadlines").scheduled_job_registry.get_job_ids()
    assert scheduled
    assert Job.fetch(scheduled[0], connection=redis_conn).meta["request_id"] == "submit-7"

    # And a job performed by the worker runs under the id of the request that enqueued it.
    token = current_request_id.set("enqueue-9")
    try:
        job = django_rq.get_queue("default").enqueue(job_request_id)
    finally:
        current_request_id.reset(token)
    django_rq.get_worker("default").work(burst=True)
    job.refresh()
    assert job.return_value() == "enqueue-9"


@pytest.mark.django_db
def test_a_job_s_log_lines_carry_the_id_of_the_request_that_enqueued_it(console_log, redis_conn,
                                                                        django_capture_on_commit_callbacks):
    from rq import SimpleWorker

    token = current_request_id.set("enqueue-log-5")
    try:
        with django_capture_on_commit_callbacks(execute=True):  # jobs are enqueued when the transaction commits
            django_rq.get_queue("default").enqueue(job_logs_a_line)
    finally:
        current_request_id.reset(token)
    # in this process (SimpleWorker), so the console handler's output is the one captured here
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)
    lines = [line for line in console_log.getvalue().splitlines() if "job line of the test" in line]
    assert len(lines) == 1 and "enqueue-log-5" in lines[0], console_log.getvalue()
