"""Hand-written SQL lives in one module per app (<app>/sql.py) or goes through shop_admin/kernel/rawsql.py: no ad-hoc cursors."""
import re

from tests.architecture.test_code_shape import ROOT, project_files

APPS = ("orders", "aftersale", "logistics", "shop_admin")
SQL_MODULES = {"orders/sql.py", "aftersale/sql.py", "logistics/sql.py", "shop_admin/kernel/rawsql.py"}
# The kernel's own database mechanisms, each the one way to do its thing, not statements of a business rule:
# not yet moved (issue 19 leaves them for a kernel sql module).
KERNEL_MECHANISMS = {
    "shop_admin/kernel/bulk.py": "COPY of many rows, ids from a sequence, constraint timing",
    "shop_admin/kernel/backups.py": "a backup's own psycopg connection: server version, CREATE DATABASE, archive settings",
    "shop_admin/kernel/replicas.py": "a replica's lag, asked of that replica's connection",
    "shop_admin/kernel/background.py": "the advisory lock of a background job",
    "shop_admin/kernel/admin.py": "EXPLAIN of the admin's own queries",
    "shop_admin/shell/health.py": "SELECT 1 of the health check",
    "shop_admin/shell/demo/clock.py": "the demo clock's shift of every time column",
    "shop_admin/devservers.py": "the embedded servers' own set-up: a standby's replication slot and streaming state",
}
RAW_SQL = re.compile(r"\.cursor\(\)|\bcursor\.execute\(|\.raw\(|\bRawSQL\b|\.extra\(|\bconn\.execute\(")


def _offending_lines() -> list[str]:
    found = []
    for path in project_files("*.py"):
        relative = path.relative_to(ROOT)
        name = relative.as_posix()
        if relative.parts[0] not in APPS or "migrations" in relative.parts or name in SQL_MODULES or name in KERNEL_MECHANISMS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if RAW_SQL.search(line.split("#", 1)[0]):
                found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_no_cursor_or_raw_sql_outside_the_sql_modules():
    assert _offending_lines() == [], "move the statement into <app>/sql.py with a test of the rows it returns"


def test_the_check_sees_a_cursor_where_one_would_be():
    # The pattern the check relies on matches the ways a statement is written by hand.
    for line in ("with connection.cursor() as c:", "cursor.execute(sql)", "Order.objects.raw(sql)", "RawSQL('x', [])"):
        assert RAW_SQL.search(line), line
    assert not RAW_SQL.search("pipe.execute()")


def test_every_listed_kernel_mechanism_still_holds_raw_sql():
    # A module listed above that no longer writes SQL by hand leaves the list.
    stale = [name for name in KERNEL_MECHANISMS if not RAW_SQL.search((ROOT / name).read_text(encoding="utf-8"))]
    assert stale == []
