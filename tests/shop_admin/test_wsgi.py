"""The WSGI entry point gunicorn loads."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_loading_the_project_made_so_full_collections_skip_it():
    code = "import gc, shop_admin.wsgi as w; assert callable(w.application); print(gc.get_freeze_count())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert int(out.stdout.strip()) > 10_000, out.stdout
