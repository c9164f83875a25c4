"""Indexes of the dashboards' queries, built without locking the requests table (a town may
hold hundreds of thousands): concurrently, outside a transaction."""

import django.db.models.functions.comparison
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0015_citizen_search_text"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="servicerequest",
            index=models.Index(fields=["resolved_at"], name="request_resolved_idx"),
        ),
        AddIndexConcurrently(
            model_name="servicerequest",
            index=models.Index(
                django.db.models.functions.comparison.Coalesce(
                    "resolved_at", "closed_at", output_field=models.DateTimeField()
                ),
                name="request_finished_idx",
            ),
        ),
    ]
