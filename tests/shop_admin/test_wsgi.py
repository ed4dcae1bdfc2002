"""The WSGI entry point gunicorn loads."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_loading_the_project_made_so_full_collections_skip_it():
    code = "import gc, shop_admin.wsgi as w; assert callable(w.application); print(gc.get_freeze_count())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert int(out.stdout.strip()) > 10_000, out.stdout


def test_loading_the_project_opens_no_connection_a_forked_worker_would_share():
    # gunicorn preloads the project in its master and forks the workers from it (shop_admin/gunicorn.conf.py): a database
    # or Redis connection opened while loading would be one socket shared by every worker.
    code = (
        "import gc, redis, shop_admin.wsgi\n"
        "from django.db import connections\n"
        "assert all(connections[alias].connection is None for alias in connections)\n"
        "pools = [o for o in gc.get_objects() if isinstance(o, redis.ConnectionPool)]\n"
        "assert not any(p._created_connections for p in pools), pools\n"
        # and the URL conf is loaded there, not by each new worker's first request (up to 5 s after a SIGHUP)
        "import sys; assert 'shop_admin.urls' in sys.modules and 'orders.api' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
