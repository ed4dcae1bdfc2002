"""The audit trail, the stock audit and the ledger become append-only in the database (PostgreSQL); orders with a history are kept."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Tables whose rows only `manage.py audit_prune` may delete (past AUDIT_RETENTION), and tables no one may change at all:
# the ledger is the money's record, and the prune's own record of each run is never pruned.
PRUNABLE = ("orders_orderevent", "orders_stockadjustment")
KEPT = ("orders_ledgerentry", "orders_auditprune")

# A row is refused UPDATE and DELETE once its transaction committed. Before that it is not yet on the record, so the
# transaction that wrote it may still change it (seed_demo writes a month of history through the services, then moves
# it back in time, all in one transaction); PostgreSQL's xmin says which transaction wrote the row, and the epoch of
# the current transaction id widens it to the 64 bits pg_xact_status takes (a subtransaction's id may be newer than
# ours, an id more than 2^31 ahead belongs to the epoch before). DELETE passes only for a prunable table while the
# transaction has set shop_admin.audit_prune, as the retention command does. TRUNCATE fires no row trigger: a test
# database is flushed as before.
FUNCTION = """
CREATE OR REPLACE FUNCTION shop_admin_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    this_xact bigint;
    writer_xact bigint;
BEGIN
    IF TG_OP = 'DELETE' AND TG_ARGV[0] = 'prunable' AND current_setting('shop_admin.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        this_xact := pg_current_xact_id()::text::bigint;
        writer_xact := ((this_xact >> 32) << 32) | OLD.xmin::text::bigint;
        IF writer_xact > this_xact + 2147483648 THEN
            writer_xact := writer_xact - 4294967296;
        END IF;
        IF writer_xact >= 0 AND pg_xact_status(writer_xact::text::xid8) = 'in progress' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % of row % refused', TG_TABLE_NAME, TG_OP, OLD.id USING ERRCODE = 'restrict_violation';
END $$
"""


def append_only_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # no placeholders: the % are PL/pgSQL's own
    for table in PRUNABLE + KEPT:
        argument = "'prunable'" if table in PRUNABLE else ""
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION shop_admin_append_only({argument})"
        )


def append_only_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in PRUNABLE + KEPT:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS shop_admin_append_only()")


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0022_exports'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditPrune',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('ran_by', models.CharField(max_length=64, verbose_name='执行人')),
                ('retention_days', models.PositiveIntegerField(verbose_name='保留天数')),
                ('cutoff', models.DateTimeField(verbose_name='删除此前的日志')),
                ('events_removed', models.PositiveIntegerField(verbose_name='删除订单日志条数')),
                ('adjustments_removed', models.PositiveIntegerField(verbose_name='删除库存调整条数')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='执行时间')),
            ],
            options={
                'verbose_name': '日志清理记录',
                'verbose_name_plural': '日志清理记录',
                'ordering': ['-created_at'],
            },
        ),
        migrations.AlterField(
            model_name='orderevent',
            name='order',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='orders.order'),
        ),
        migrations.AlterField(
            model_name='stockadjustment',
            name='stock_level',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adjustments', to='orders.stocklevel'),
        ),
        migrations.AlterField(
            model_name='orderevent',
            name='actor_user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='stockadjustment',
            name='actor_user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(append_only_create, append_only_drop),
    ]
