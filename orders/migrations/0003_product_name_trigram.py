"""Trigram index on order-line product names, so the console's product search stays fast at a million orders (PostgreSQL only)."""
from django.db import migrations


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS orderline_product_name_trgm ON orders_orderline USING gin (product_name gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS orderline_product_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_console_indexes")]
    operations = [migrations.RunPython(create_trigram_index, drop_trigram_index)]
