"""One open after-sale case per order line becomes a partial unique index, on a copy of the case's openness on each line."""
from django.db import migrations, models

# OPEN_STATUSES as this migration found them: a later change of the constant must not change what it did.
OPEN_STATUSES = ["requested", "negotiating", "approved", "awaiting_return", "returning", "inspecting", "arbitrating"]


def lines_follow_cases(apps, schema_editor):
    AfterSaleLine = apps.get_model("aftersale", "AfterSaleLine")
    AfterSaleLine.objects.exclude(case__status__in=OPEN_STATUSES).update(case_open=False)


class Migration(migrations.Migration):

    dependencies = [
        ('aftersale', '0009_case_scores_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='aftersaleline',
            name='case_open',
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(lines_follow_cases, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='aftersaleline',
            constraint=models.UniqueConstraint(condition=models.Q(('case_open', True)), fields=('line',), name='aftersale_one_open_case_per_line'),
        ),
    ]
