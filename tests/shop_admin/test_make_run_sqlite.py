"""`make run` works on its embedded SQLite: the demo seeds, the clock sweeps, the console's pages answer.

The suite runs on PostgreSQL, where the hot paths use its own SQL (COPY, arrays, DISTINCT ON, prepared
statements, percentile_cont); each has a portable fallback, and this is the test that they are all there.
It runs the project's own commands in a child process on a throw-away SQLite file, without Redis (as
`make run` does when Redis is down), so nothing of the suite's database or Redis is touched.
"""
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]

PAGES = """
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from orders.models import Order

settings.ALLOWED_HOSTS = ["*"]
users = get_user_model().objects
merchant, arbiter = Client(), Client()
merchant.force_login(users.get(username="merchant"))
arbiter.force_login(users.get(username="arbiter"))
order = Order.objects.filter(shop__name="抖店演示旗舰店").order_by("-pk").first()
paths = ["/", "/orders/", "/orders/?status=paid", "/orders/?q=138", f"/orders/{order.order_no}/", "/logistics/",
         "/aftersales/", "/exceptions/", "/imports/", "/exports/", "/products/"]
for path in paths:
    print(merchant.get(path).status_code, path)
for path in ["/admin/aftersale/aftersalecase/", "/admin/aftersale/aftersalecase/?queue=all", "/admin/orders/order/"]:
    print(arbiter.get(path).status_code, path)
"""


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_make_run_seeds_sweeps_and_serves_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nobody listens: the deadlines wait for the sweep, as without Redis
        "DJANGO_SETTINGS_MODULE": "shop_admin.settings",
        "DJANGO_ENV": "development",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    _run(["manage.py", "migrate", "--noinput", "-v0"], env)
    seeded = _run(["manage.py", "seed_demo"], env)
    assert "merchant" in seeded.stdout and "arbiter" in seeded.stdout
    # The clock of two weeks on: every kind of deadline of the demo falls due (auto-confirm, reply timeouts, stalls).
    later = (timezone.now() + timedelta(days=14)).isoformat()
    swept = _run(["manage.py", "sweep_deadlines", "--at", later], env)
    applied = dict(line.split(": ") for line in swept.stdout.strip().splitlines() if ": " in line)
    assert int(applied["order_auto_confirm"]) > 0 and int(applied["aftersale_reply_timeout"]) > 0, swept.stdout
    pages = _run(["-c", PAGES], env)
    answers = [line.split(" ", 1) for line in pages.stdout.strip().splitlines()]
    assert len(answers) == 14 and all(status == "200" for status, _ in answers), pages.stdout
