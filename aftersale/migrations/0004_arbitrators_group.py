"""The platform's `arbitrators` group with only what ruling a dispute needs: read the case, its order and money; rule."""
from django.db import migrations
from django.db.models import F

GROUP = "arbitrators"
PERMISSIONS = {
    "aftersale": ["view_aftersalecase", "arbitrate_aftersalecase", "view_aftersaleline", "view_aftersalemessage",
                  "view_merchantpenalty", "view_buyermark"],
    "orders": ["view_order", "view_orderline", "view_orderevent", "view_payment", "view_refund", "view_buyer"],
}


def create_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    group, _created = Group.objects.get_or_create(name=GROUP)
    for label, codenames in PERMISSIONS.items():
        for codename in codenames:
            # Permissions are normally made after migrate; make them now (the same rows) so the group can hold them.
            action, model = codename.split("_", 1)
            content_type, _created = ContentType.objects.get_or_create(app_label=label, model=model)
            permission, _created = Permission.objects.get_or_create(
                codename=codename, content_type=content_type, defaults={"name": f"Can {action} {model}"}
            )
            group.permissions.add(permission)


def backfill_due_at(apps, schema_editor):
    Case = apps.get_model("aftersale", "AfterSaleCase")
    Case.objects.filter(status__in=["requested", "negotiating"], due_at__isnull=True).update(due_at=F("reply_deadline"))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("aftersale", "0003_workbench_lines_messages_arbitration"),
        ("orders", "0013_ledger_deposit_compensation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_group, remove_group),
        migrations.RunPython(backfill_due_at, migrations.RunPython.noop),
    ]
