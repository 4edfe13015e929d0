from django.db import migrations, models
from django.db.models.functions import Coalesce


def count_existing_readings(apps, schema_editor):
    DataSource = apps.get_model("sources", "DataSource")
    Reading = apps.get_model("readings", "Reading")
    counted = (
        Reading.objects.filter(data_source=models.OuterRef("pk"))
        .order_by()
        .values("data_source")
        .annotate(n=models.Count("pk"))
        .values("n")
    )
    DataSource.objects.update(reading_count=Coalesce(models.Subquery(counted), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0002_device_token"),
        ("readings", "0002_drop_redundant_source_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasource",
            name="reading_count",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_existing_readings, migrations.RunPython.noop),
    ]
