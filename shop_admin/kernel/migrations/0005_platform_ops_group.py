"""The platform's `platform_ops` group: with the superusers, the only ones who see the RQ dashboard (/admin/rq/)."""
from django.db import migrations

GROUP = "platform_ops"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("shop_admin", "0004_todo_seen_and_read"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
