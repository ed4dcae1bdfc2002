"""`make run` works on its embedded servers: with neither DATABASE_URL nor REDIS_URL set, the PostgreSQL and Redis
from .venv start, the demo seeds, the clock sweeps and the console's pages answer, and both servers stop after.

It runs the project's own commands in a child process through `shop_admin.devservers` with a throw-away data
folder, so nothing of the suite's database or Redis is touched, and the suite itself may run on another
PostgreSQL version (CI's 15) while this runs on the embedded 18.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
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
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture
def data_dir():
    # Not under pytest's tmp_path: pytest keeps /tmp/pytest-of-<user> at mode 0700 (re-applied by every run on the machine),
    # and a server started as root runs as its own user, which must reach its data folder.
    path = Path(tempfile.mkdtemp(prefix="embedded-servers-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_make_run_seeds_sweeps_and_serves_on_the_embedded_servers(tmp_path, data_dir):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "shop_admin.settings", "DJANGO_ENV": "development", "MEDIA_ROOT": str(tmp_path / "media"),
                "PYTHONPATH": str(ROOT)})
    # The clock of two weeks on: every kind of deadline of the demo falls due (auto-confirm, reply timeouts, stalls).
    later = (timezone.now() + timedelta(days=14)).isoformat()
    python = sys.executable
    pages = data_dir / "pages.py"
    pages.write_text(PAGES)
    script = (
        f"{python} manage.py migrate --noinput -v0 && {python} manage.py seed_demo"
        f" && {python} manage.py sweep_deadlines --at {later} && {python} {pages}"
        f" && echo URLS $DATABASE_URL $REDIS_URL"
    )
    done = _run([python, "-m", "shop_admin.devservers", "--data", str(data_dir), "sh", "-c", script], env)
    out = done.stdout
    assert "merchant" in out and "arbiter" in out
    applied = dict(line.split(": ") for line in out.splitlines() if line.startswith(("order_", "aftersale_")) and ": " in line)
    assert int(applied["order_auto_confirm"]) > 0 and int(applied["aftersale_reply_timeout"]) > 0, out
    answers = [line.split(" ", 1) for line in out.splitlines() if line.split(" ", 1)[-1].startswith("/")]
    assert len(answers) == 14 and all(status == "200" for status, _ in answers), out
    # The servers were the embedded ones (a socket under the data folder, a Redis of our own), and they are gone after.
    urls = next(line for line in out.splitlines() if line.startswith("URLS ")).split()
    assert quote(str(data_dir / "pg"), safe="") in urls[1] and not urls[2].endswith(":6379/0"), urls
    port = int(urls[2].rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not (data_dir / "pg" / "postmaster.pid").exists()
