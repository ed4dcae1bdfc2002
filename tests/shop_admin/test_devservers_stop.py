"""Ctrl-C on `make run` / `make fleet` stops the embedded PostgreSQL (and make fleet's standby) and Redis too, though the signal arrives several times."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What make's recipe runs under the embedded servers: processes in the background, stopped together by the shell's traps.
RECIPE = "trap 'kill 0' INT TERM EXIT; sleep 300 & wait"


@pytest.fixture
def data_dir():
    # Not under pytest's tmp_path (mode 0700): the embedded server runs as a user of its own and must reach its folder.
    path = Path(tempfile.mkdtemp(prefix="embedded-stop-"))
    path.chmod(0o755)
    yield path
    for pid in subprocess.run(["pgrep", "-f", str(path)], capture_output=True, text=True).stdout.split():
        os.kill(int(pid), signal.SIGKILL)  # only what this test started, found by its own data folder
    shutil.rmtree(path, ignore_errors=True)


def _terminal_default_signals() -> None:
    # As in a terminal: SIGINT delivered, not ignored (a background job inherits it ignored, and no trap could then run).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("fleet", [[], ["--replica"]], ids=["make-run", "make-fleet"])
def test_ctrl_c_stops_the_embedded_servers_with_the_command(data_dir, fleet):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URLS")}
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_admin.devservers", *fleet, "--data", str(data_dir), "sh", "-c", RECIPE],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_terminal_default_signals, start_new_session=True,
    )
    started = process.stdout.readline()
    assert "DATABASE_URL=" in started, started + process.stdout.read()
    assert ("DATABASE_REPLICA_URLS=" in started) == bool(fleet), started  # make fleet's standby, streaming already
    time.sleep(0.5)

    # when the terminal's Ctrl-C reaches the whole process group
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)

    # then nothing started on that data folder is left running
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-af", str(data_dir)], capture_output=True, text=True).stdout
    assert left == "", left
