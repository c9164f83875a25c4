"""Indexes of the dashboards' queries. Not built concurrently: new towns' schemas are migrated
inside a transaction (spare schemas, tests), where PostgreSQL refuses CREATE INDEX
CONCURRENTLY; on a large town, run this migration in a quiet hour (a few seconds' write lock per
100,000 requests)."""

import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0015_citizen_search_text"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(fields=["resolved_at"], name="request_resolved_idx"),
        ),
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(
                django.db.models.functions.comparison.Coalesce(
                    "resolved_at", "closed_at", output_field=models.DateTimeField()
                ),
                name="request_finished_idx",
                include=["resolved_at", "closed_at", "created_at", "department"],
            ),
        ),
    ]
