"""`make fleet`'s databases: the embedded primary and a streaming standby of it, which the app's lag-tolerant reads use.

The pair is started the way `make fleet` starts it (`shop_admin.devservers --replica`, the Makefile's recipe) on a
throw-away data folder, around a child process that looks at it through the app's own settings. Only one table is
made there (migrating the whole schema would be most of the test's time, and the full walk on a paused standby
is tests/shop_admin/test_replicas.py's): enough for an ORM read to show where it was answered.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, time
import django
django.setup()
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from shop_admin.kernel.replicas import lag_tolerant, writes_begin, writes_end
from shop_admin.shell.health import readiness


def one(alias, sql):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


print("ROUTERS", json.dumps(settings.DATABASE_ROUTERS))
deadline = time.monotonic() + 10  # a walsender reports "catchup" for a moment before "streaming"
while not one("default", "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") and time.monotonic() < deadline:
    time.sleep(0.05)
print("PRIMARY_SENDS", one("default", "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"))
print("STANDBY_IN_RECOVERY", one("replica0", "SELECT pg_is_in_recovery()"))
print("STANDBY_RECEIVER", one("replica0", "SELECT status FROM pg_stat_wal_receiver"))
with connections["default"].schema_editor() as editor:
    editor.create_model(ContentType)
# The standby replays the new table, then replays nothing more: a row written next is on the primary only.
target = one("default", "SELECT pg_current_wal_insert_lsn()::text")
deadline = time.monotonic() + 30
while not one("replica0", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") and time.monotonic() < deadline:
    time.sleep(0.05)
one("replica0", "SELECT pg_wal_replay_pause()::text")
with connections["default"].cursor() as cursor:  # a plain cursor: the script itself stays a reader for the router
    cursor.execute("INSERT INTO django_content_type (app_label, model) VALUES ('fleet', 'probe')")


def probe():
    return ContentType.objects.filter(app_label="fleet").exists()


request = writes_begin()  # what the middleware does for each request: a new one has written nothing
print("LAG_TOLERANT_SEES_NEW_ROW", lag_tolerant(probe))
print("DEFAULT_READ_SEES_NEW_ROW", probe())
writes_end(request)
print("READYZ", json.dumps(readiness()[1]))
"""


@pytest.fixture
def data_dir():
    # Not under pytest's tmp_path (mode 0700): the embedded servers run as a user of their own and must reach it.
    path = Path(tempfile.mkdtemp(prefix="fleet-pair-"))
    path.chmod(0o755)
    yield path
    for pid in subprocess.run(["pgrep", "-f", str(path)], capture_output=True, text=True).stdout.split():
        os.kill(int(pid), signal.SIGKILL)  # only what this test started, found by its own data folder
    shutil.rmtree(path, ignore_errors=True)


def _fleet_env(**extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URLS")}
    env.update({"DJANGO_SETTINGS_MODULE": "shop_admin.settings", "DJANGO_ENV": "development", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def _lines(out: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in out.splitlines() if re.match(r"[A-Z_]+ ", line))


def test_make_fleet_starts_its_servers_with_a_replica():
    recipe = re.search(r"^fleet:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert "$(EMBEDDED) --replica " in recipe, recipe


def test_the_fleet_standby_streams_from_the_primary_and_serves_lag_tolerant_reads(data_dir):
    (data_dir / "probe.py").write_text(PROBE)
    python = sys.executable
    script = f"echo URLS $DATABASE_URL $DATABASE_REPLICA_URLS && {python} {data_dir / 'probe.py'}"
    done = subprocess.run(
        [python, "-m", "shop_admin.devservers", "--replica", "--data", str(data_dir), "sh", "-c", script],
        cwd=ROOT, env=_fleet_env(REPLICA_MAX_LAG_S="3600"), capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    seen = _lines(done.stdout)

    # The primary and the standby are both the embedded servers' own, on sockets under the data folder.
    primary_url, replica_url = seen["URLS"].split()
    assert "pg-standby" in replica_url and "pg-standby" not in primary_url and str(data_dir).replace("/", "%2F") in replica_url
    assert json.loads(seen["ROUTERS"]) == ["shop_admin.db_router.PrimaryReplicaRouter"]
    # Streaming replication: the primary sends to one standby, which is in recovery and receiving.
    assert seen["PRIMARY_SENDS"] == "1" and seen["STANDBY_IN_RECOVERY"] == "True" and seen["STANDBY_RECEIVER"] == "streaming"
    # The router sends a lag-tolerant read to the standby (replay paused: it lacks the new row) and any other read to the primary.
    assert seen["LAG_TOLERANT_SEES_NEW_ROW"] == "False" and seen["DEFAULT_READ_SEES_NEW_ROW"] == "True"
    ready = json.loads(seen["READYZ"])
    # /readyz names the standby as a replica that keeps up (migrations are "pending": the schema is not there).
    assert ready["database"] == "ok" and ready["redis"] == "ok", ready
    assert list(ready["replicas"]) == ["replica0"] and ready["replicas"]["replica0"]["status"] == "ok", ready

    # Everything stopped with the command: no server left on the folder, the standby's slot gone from the primary.
    left = subprocess.run(["pgrep", "-af", str(data_dir)], capture_output=True, text=True).stdout
    assert left == "", left
    assert not (data_dir / "pg" / "postmaster.pid").exists() and not (data_dir / "pg-standby" / "postmaster.pid").exists()
    slots = subprocess.run(
        [python, "-m", "shop_admin.devservers", "--quiet", "--data", str(data_dir), "sh", "-c",
         f"{python} -c \"import psycopg, dj_database_url as d, os; e = d.parse(os.environ['DATABASE_URL']);"
         " print('SLOTS', psycopg.connect(host=e['HOST'], user='postgres', dbname='shop')"
         ".execute('SELECT count(*) FROM pg_replication_slots').fetchone()[0])\""],
        cwd=ROOT, env=_fleet_env(), capture_output=True, text=True, timeout=120,
    )
    assert _lines(slots.stdout).get("SLOTS") == "0", slots.stdout + slots.stderr


def test_an_external_primary_runs_without_a_replica_unless_one_is_named():
    external = {"DATABASE_URL": "postgres://shop@db.internal/shop", "REDIS_URL": "redis://127.0.0.1:1/0"}
    echo = ["sh", "-c", "echo REPLICAS=$DATABASE_REPLICA_URLS"]

    alone = subprocess.run([sys.executable, "-m", "shop_admin.devservers", "--replica", *echo], cwd=ROOT,
                           env=_fleet_env(**external), capture_output=True, text=True, timeout=60)
    assert alone.returncode == 0, alone.stderr
    assert "running without a replica" in alone.stdout and "REPLICAS=\n" in alone.stdout

    named = subprocess.run([sys.executable, "-m", "shop_admin.devservers", "--replica", *echo], cwd=ROOT,
                           env=_fleet_env(**external, DATABASE_REPLICA_URLS="postgres://shop@standby.internal/shop"),
                           capture_output=True, text=True, timeout=60)
    assert named.returncode == 0, named.stderr
    assert "without a replica" not in named.stdout and "REPLICAS=postgres://shop@standby.internal/shop\n" in named.stdout
