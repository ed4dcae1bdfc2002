import django.db.models.deletion
from django.db import migrations, models

# The two foreign-key indexes of orders that composite indexes already cover (every one of them starts with
# shop or buyer). Only the indexes go: Django's AlterField would also drop and re-add both constraints,
# re-checking a million rows under lock, for a state change the constraints do not need.
INDEXES = {"orders_order_buyer_id_26195532": "buyer_id", "orders_order_shop_id_b562fb3d": "shop_id"}


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0019_line_returned_quantity"),
        ("shop_admin", "0004_todo_seen_and_read"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"', reverse_sql=f'CREATE INDEX "{name}" ON "orders_order" ("{column}")'
                )
                for name, column in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="buyer",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="orders", to="orders.buyer"
                    ),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="shop",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="shop_admin.shop"
                    ),
                ),
            ],
        ),
    ]
