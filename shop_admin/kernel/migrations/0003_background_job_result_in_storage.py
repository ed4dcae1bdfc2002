"""Job results move from a bytes column to files in storage; jobs get a summary and a run count for recovery."""
from django.core.files.base import ContentFile
from django.db import migrations, models


def results_to_storage(apps, schema_editor):
    BackgroundJob = apps.get_model("shop_admin", "BackgroundJob")
    for job in BackgroundJob.objects.filter(result__isnull=False).iterator():
        job.result_file.save(job.result_name or f"job-{job.pk}", ContentFile(bytes(job.result)), save=False)
        BackgroundJob.objects.filter(pk=job.pk).update(result_file=job.result_file.name)


class Migration(migrations.Migration):
    dependencies = [("shop_admin", "0002_background_job")]

    operations = [
        migrations.AddField(
            model_name="backgroundjob",
            name="result_file",
            field=models.FileField(blank=True, max_length=300, upload_to="jobs/%Y/%m/"),
        ),
        migrations.AddField(model_name="backgroundjob", name="summary", field=models.JSONField(blank=True, default=dict)),
        migrations.AddField(model_name="backgroundjob", name="attempts", field=models.PositiveSmallIntegerField(default=0)),
        migrations.AddField(model_name="backgroundjob", name="heartbeat_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.RunPython(results_to_storage, migrations.RunPython.noop),
        migrations.RemoveField(model_name="backgroundjob", name="result"),
    ]
