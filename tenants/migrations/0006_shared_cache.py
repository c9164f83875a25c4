"""The cache table shared by every process when Redis is not configured (shared_config/cache.py).

In the public schema only (this app is not a town's): towns reach it through their search_path.
UNLOGGED: a cache needs no crash safety, and skipping the write-ahead log keeps writes cheap.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0005_suspended_from'),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                'CREATE UNLOGGED TABLE IF NOT EXISTS "relais_cache" ('
                ' "cache_key" varchar(255) NOT NULL PRIMARY KEY,'
                ' "value" text NOT NULL,'
                ' "expires" timestamp with time zone NOT NULL)',
                'CREATE INDEX IF NOT EXISTS "relais_cache_expires" ON "relais_cache" ("expires")',
            ],
            reverse_sql=['DROP TABLE IF EXISTS "relais_cache"'],
        ),
    ]
