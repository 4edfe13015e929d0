import django.db.models.deletion
from django.db import migrations, models

# Only the index goes: letting AlterField do it would also drop and re-add the foreign key, which checks
# every reading again.
INDEX = "readings_reading_data_source_id_5a9feb53"


class Migration(migrations.Migration):

    dependencies = [
        ('readings', '0001_initial'),
        ('sources', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='reading',
                    name='data_source',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='readings', to='sources.datasource'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "readings_reading" ("data_source_id")',
                ),
            ],
        ),
    ]
