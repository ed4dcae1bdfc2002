"""docs/scaling.md's Citus table list holds for every model: shop-owned tables carry shop_id, and keys that would block
distribution by shop are named with what changes."""
import re
from pathlib import Path

from django.apps import apps
from django.db import models

ROOT = Path(__file__).resolve().parents[2]
SCALING_DOC = ROOT / "docs" / "scaling.md"
SHOP_TABLE = "shop_admin_shop"
PLACEMENTS = {"distributed", "reference", "local"}
SHOP_ID_STATES = {"yes", "nullable", "to add", "no"}


def doc_tables() -> dict[str, dict]:
    """The rows between the markers of docs/scaling.md: table -> placement, shop_id state, keys to widen, why."""
    text = SCALING_DOC.read_text(encoding="utf-8")
    block = text.split("<!-- citus tables: begin -->")[1].split("<!-- citus tables: end -->")[0]
    rows = {}
    for line in block.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`"):
            continue
        table = cells[0].strip("`")
        assert table not in rows, f"{table} is listed twice in docs/scaling.md"
        rows[table] = {
            "placement": cells[1],
            "shop_id": cells[2],
            "widen": set(re.findall(r"\(([a-z_, ]+)\)", cells[3])),
            "why": cells[4],
        }
    return rows


def tables() -> dict[str, type[models.Model]]:
    """Every table the project's models own (auto-created many-to-many tables included), by name."""
    return {m._meta.db_table: m for m in apps.get_models(include_auto_created=True) if m._meta.managed}


def foreign_tables(model) -> list[str]:
    return [f.related_model._meta.db_table for f in model._meta.concrete_fields if f.is_relation]


def shop_owned(all_tables: dict) -> set[str]:
    """Tables whose rows belong to one shop: a foreign key to the shop, or to a table whose rows do."""
    owned = set()
    changed = True
    while changed:
        changed = False
        for name, model in all_tables.items():
            if name not in owned and name != SHOP_TABLE and any(t == SHOP_TABLE or t in owned for t in foreign_tables(model)):
                owned.add(name)
                changed = True
    return owned


def unique_keys(model) -> set[str]:
    """Each unique key other than the primary key, as its columns joined by ', ' (as the doc writes them)."""
    meta = model._meta
    keys = [[f.column] for f in meta.concrete_fields if f.unique and not f.primary_key]
    keys += [[meta.get_field(n).column for n in together] for together in meta.unique_together]
    keys += [[meta.get_field(n).column for n in c.fields] for c in meta.constraints
             if isinstance(c, models.UniqueConstraint) and c.fields]
    return {", ".join(key) for key in keys}


def shop_id_state(model) -> str:
    field = next((f for f in model._meta.concrete_fields if f.column == "shop_id"), None)
    if field is None:
        return "no"
    return "nullable" if field.null else "yes"


def test_every_table_has_a_placement_in_the_doc():
    rows, names = doc_tables(), tables()
    assert sorted(set(names) - set(rows)) == [], "tables docs/scaling.md does not place"
    assert sorted(set(rows) - set(names)) == [], "docs/scaling.md places tables no model has"
    for table, row in rows.items():
        assert row["placement"] in PLACEMENTS, f"{table}: placement {row['placement']!r}"
        assert row["shop_id"] in SHOP_ID_STATES, f"{table}: shop_id {row['shop_id']!r}"


def test_shop_owned_tables_are_distributed_by_shop_id_or_say_why_not():
    rows, names = doc_tables(), tables()
    for table in sorted(shop_owned(names)):
        row = rows[table]
        if row["placement"] != "distributed":
            assert row["why"], f"{table} belongs to a shop but is {row['placement']} without a reason"
            continue
        actual = shop_id_state(names[table])
        # "to add" is a documented gap: the doc must say it is missing, and the day it is added the doc says so too.
        expected = "no" if row["shop_id"] == "to add" else row["shop_id"]
        assert actual == expected, f"{table}: shop_id is {actual} in the models, {row['shop_id']!r} in docs/scaling.md"
        if actual == "nullable":
            assert row["why"], f"{table}: shop_id may be NULL and docs/scaling.md does not say how it becomes NOT NULL"


def test_unique_keys_without_shop_id_are_named_on_distributed_tables():
    rows, names = doc_tables(), tables()
    for table, row in rows.items():
        if row["placement"] != "distributed":
            continue
        blocking = {key for key in unique_keys(names[table]) if "shop_id" not in key.split(", ")}
        assert blocking == row["widen"], (
            f"{table}: unique keys without shop_id are {sorted(blocking)}, docs/scaling.md names {sorted(row['widen'])}"
        )


def test_foreign_keys_go_where_citus_allows():
    # Citus: a reference table may reference only reference tables; a distributed one distributed or reference tables;
    # a local (coordinator-only) table anything but a distributed one.
    allowed = {"reference": {"reference"}, "distributed": {"distributed", "reference"}, "local": {"local", "reference"}}
    rows, names = doc_tables(), tables()
    for table, model in names.items():
        placement = rows[table]["placement"]
        for target in foreign_tables(model):
            assert rows[target]["placement"] in allowed[placement], (
                f"{table} ({placement}) has a foreign key to {target} ({rows[target]['placement']})"
            )
