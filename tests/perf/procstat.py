"""CPU time of processes on this machine, from /proc: the benchmarks' steadier figure beside wall time.

On a shared machine wall time includes the wait for a core; CPU time hardly does. Every benchmark
reads it here: its own process, gunicorn's master and workers, and the PostgreSQL backends (which run
on this machine too).
"""
import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None if the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_of(pid) -> float | None:
    """User + system CPU seconds the process has used, or None if it is gone."""
    fields = _stat(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def cpu_by_pid(pids) -> dict[int, float]:
    """CPU seconds of each process still there."""
    used = {}
    for pid in pids:
        seconds = cpu_of(pid)
        if seconds is not None:
            used[pid] = seconds
    return used


def cpu_seconds(pids) -> float:
    """CPU seconds of the processes together (a process gone counts nothing)."""
    return sum(cpu_by_pid(pids).values())


def children_of(master: int) -> list[int]:
    """The process and its direct children (gunicorn's master and its workers)."""
    pids = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:  # ppid
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def backend_cpu() -> float | None:
    """CPU seconds of the PostgreSQL backend serving Django's default connection, or None if it runs elsewhere."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return cpu_of(pid)


def database_backends() -> list[int]:
    """The other PostgreSQL backends serving this database (a server's workers' connections)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]
