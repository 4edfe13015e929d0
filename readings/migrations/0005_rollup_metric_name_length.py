# Metric names may be up to 64 characters long (sources.metrics.MAX_METRIC_NAME_LENGTH).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('readings', '0004_hourly_rollup'),
    ]

    operations = [
        migrations.AlterField(
            model_name='hourlyrollup',
            name='metric',
            field=models.CharField(max_length=64),
        ),
    ]
