"""Trigram index on UPPER(product_name): Django's icontains is UPPER(col) LIKE UPPER('%q%') on PostgreSQL, so the
plain-column index of 0003 was never used (the product search scanned every order line)."""
from django.db import migrations


def upper_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS orderline_product_name_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS orderline_product_name_upper_trgm "
        "ON orders_orderline USING gin (UPPER(product_name) gin_trgm_ops)"
    )


def plain_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS orderline_product_name_upper_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS orderline_product_name_trgm ON orders_orderline USING gin (product_name gin_trgm_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_list_index_with_id")]
    operations = [migrations.RunPython(upper_trigram_index, plain_trigram_index)]
