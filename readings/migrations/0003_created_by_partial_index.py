import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The full index goes by SQL alone: letting AlterField drop it would also drop and re-add the foreign key,
# which checks every reading again.
INDEX = "readings_reading_created_by_id_4d1d13b6"


class Migration(migrations.Migration):

    dependencies = [
        ('readings', '0002_drop_redundant_source_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='reading',
                    name='created_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "readings_reading" ("created_by_id")',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='reading',
            index=models.Index(condition=models.Q(('created_by__isnull', False)), fields=['created_by'], name='reading_created_by_set'),
        ),
    ]
