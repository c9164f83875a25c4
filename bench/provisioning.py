#!/usr/bin/env python
"""Provisioning a town, and copying a host's catalog into it, each against its baseline.

With at least 200 towns already in the database (their schemas made by copying table
definitions, which is quick and gives PostgreSQL's catalog a realistic size):
  migrate   municipality_create with an empty spare pool: django-tenants creates the schema and
            replays every migration (the stock path);
  claim     municipality_create with spares ready: the schema is a renamed spare;
both followed by the administrator's invitation, as a real onboarding does.
Then a host with 300 service types (two questions of three choices each) and 2,000 articles,
each sample into a town just claimed from the spare pool (its tables never written, as a new
town's), timed up to its commit (the deferred foreign-key checks run there):
  orm       copying them row by row through the ORM, in one transaction;
  relais    crm.cloning.catalog_copy_from (set-based INSERT … SELECT), in one transaction;
  onboard   onboarding.services.municipality_onboard, what the console's wizard runs: the spare
            claimed, the catalog and bank copied, the administrator invited, all committed.

    make bench                                  # or: .venv/bin/python bench/provisioning.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import bench_database_url, child_env, prepare  # noqa: E402

FILLER_TOWNS = 200


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--migrate-samples", type=int, default=5)
    parser.add_argument("--claim-samples", type=int, default=15)
    parser.add_argument("--copy-samples", type=int, default=9)
    args = parser.parse_args()

    database_url = bench_database_url()
    prepare(database_url)
    os.environ.update(child_env(database_url, RELAIS_SPARE_POOL_SIZE="0"))
    import django

    django.setup()
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from crm.cloning import catalog_copy_from
    from crm.models import (
        Department,
        FaqArticle,
        ServiceAttribute,
        ServiceAttributeValue,
        ServiceCategory,
        ServiceType,
    )
    from tenants.models import Domain, Municipality, Region, SpareSchema
    from tenants.provisioning import spare_schema_create
    from tenants.services import administrator_invite, municipality_create

    def run_sql(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    def drop_town(slug: str) -> None:
        town = Municipality.objects.filter(slug=slug).first()
        if town is not None:
            Domain.objects.filter(tenant=town).delete()
            Municipality.objects.filter(pk=town.pk).delete()
            run_sql(f'DROP SCHEMA IF EXISTS "{town.schema_name}" CASCADE')

    # --- 200 towns already present ------------------------------------------------------------
    existing = Municipality.objects.filter(slug__startswith="filler-").count()
    if existing < FILLER_TOWNS:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'bench' ORDER BY tablename"
            )
            tables = [row[0] for row in cursor.fetchall()]
        for index in range(existing, FILLER_TOWNS):
            slug = f"filler-{index:03d}"
            schema = slug.replace("-", "_")
            with transaction.atomic():
                run_sql(f'CREATE SCHEMA "{schema}"')
                for table in tables:
                    run_sql(
                        f'CREATE TABLE "{schema}"."{table}" (LIKE bench."{table}" INCLUDING ALL)'
                    )
                town = Municipality(
                    name=f"Ville {index}",
                    slug=slug,
                    schema_name=schema,
                    region=Region.LAVAL,
                    privacy_officer_name="Greffe",
                    privacy_officer_email=f"greffe@{slug}.localhost",
                    status=Municipality.Status.LIVE,
                )
                town.auto_create_schema = False
                town.save()
                Domain.objects.create(domain=f"{slug}.localhost", tenant=town, is_primary=True)
        print(
            f"{FILLER_TOWNS} towns present ({time.perf_counter() - started:.0f} s to add them)",
            flush=True,
        )
    towns_present = Municipality.objects.count()

    def provision(slug: str) -> float:
        started = time.perf_counter()
        with transaction.atomic():
            town = municipality_create(
                name=f"Ville {slug}",
                slug=slug,
                domain=f"{slug}.localhost",
                region=Region.LAVAL,
                privacy_officer_name="Greffe",
                privacy_officer_email=f"greffe@{slug}.localhost",
            )
            administrator_invite(municipality=town, email=f"admin@{slug}.localhost")
        return (time.perf_counter() - started) * 1000

    # --- migrate path -------------------------------------------------------------------------
    SpareSchema.objects.all().delete()  # spares left by an interrupted run are dropped below
    run_sql(
        "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\\_%' LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$"
    )
    migrate_ms = []
    for index in range(args.migrate_samples):
        slug = f"mig-{index}"
        drop_town(slug)
        migrate_ms.append(provision(slug))
        drop_town(slug)
        print(f"migrate {index + 1}/{args.migrate_samples}: {migrate_ms[-1]:.0f} ms", flush=True)

    # --- claim path ---------------------------------------------------------------------------
    print(f"preparing {args.claim_samples} spares (by migrations, as the pool does)…", flush=True)
    for _ in range(args.claim_samples):
        spare_schema_create()
    claim_ms = []
    for index in range(args.claim_samples):
        slug = f"claim-{index}"
        drop_town(slug)
        claim_ms.append(provision(slug))
    for index in range(args.claim_samples):
        drop_town(f"claim-{index}")

    # --- catalog copy ---------------------------------------------------------------------
    # The host of the copy is a town of its own, so the search benchmark's bank is untouched.
    from bench.search import generate

    def town(slug: str) -> Municipality:
        existing = Municipality.objects.filter(slug=slug).first()
        if existing is not None:
            return existing
        spare_schema_create()
        return municipality_create(
            name=f"Ville {slug}",
            slug=slug,
            domain=f"{slug}.localhost",
            region=Region.LAVAL,
            privacy_officer_name="Greffe",
            privacy_officer_email=f"greffe@{slug}.localhost",
        )

    source = town("copy-source")
    with schema_context(source.schema_name):
        if ServiceType.objects.count() != 300 or FaqArticle.objects.count() != 2000:
            started = time.perf_counter()
            FaqArticle.objects.all().delete()
            ServiceType.objects.all().delete()
            department = Department.objects.get_or_create(
                code="bench", defaults={"name_fr": "Banc"}
            )[0]
            categories = [
                ServiceCategory.objects.get_or_create(
                    code=f"bench-cat-{i}", defaults={"name_fr": f"Catégorie {i}"}
                )[0]
                for i in range(10)
            ]
            types = []
            for index in range(300):
                service_type = ServiceType.objects.create(
                    code=f"bench-type-{index}",
                    name_fr=f"Type {index}",
                    name_en=f"Type {index}",
                    category=categories[index % 10],
                    department=department,
                )
                types.append(service_type)
                for number in range(2):
                    attribute = ServiceAttribute.objects.create(
                        service_type=service_type,
                        code=f"q{number}",
                        label_fr=f"Question {number}",
                        datatype="singlevaluelist",
                        required=number == 0,
                        order=number,
                    )
                    ServiceAttributeValue.objects.bulk_create(
                        ServiceAttributeValue(
                            attribute=attribute, key=f"v{v}", name_fr=f"Valeur {v}", order=v
                        )
                        for v in range(3)
                    )
            articles, _rare = generate(__import__("random").Random(2000), count=2000)
            created = FaqArticle.objects.bulk_create(
                FaqArticle(
                    question_fr=q_fr,
                    answer_fr=a_fr,
                    question_en=q_en,
                    answer_en=a_en,
                    audience=audience,
                    status="published",
                    owner_department=department,
                )
                for q_fr, a_fr, q_en, a_en, audience in articles
            )
            for index, article in enumerate(created):
                article.service_types.add(types[index % 300])
            print(f"host catalog built ({time.perf_counter() - started:.0f} s)", flush=True)

    Municipality.objects.filter(pk=source.pk).update(kind=Municipality.Kind.HOST)
    source.refresh_from_db()

    # A live host's tables have statistics (autovacuum analyses them); a catalog just built here
    # may not have them yet (and autovacuum may be off on the server).
    with schema_context(source.schema_name):
        run_sql(
            "ANALYZE crm_department, crm_servicecategory, crm_servicetype, crm_serviceattribute, "
            "crm_serviceattributevalue, crm_faqarticle, crm_faqarticle_service_types"
        )

    def claimed_town(slug: str) -> Municipality:
        """A new town from a spare made beforehand, as an onboarding gets it (not timed)."""
        drop_town(slug)
        spare_schema_create()
        return municipality_create(
            name="Copie",
            slug=slug,
            domain=f"{slug}.localhost",
            region=Region.LAVAL,
            privacy_officer_name="Greffe",
            privacy_officer_email=f"greffe@{slug}.localhost",
        )

    def timed_copy(function) -> tuple[float, dict[str, int]]:
        target = claimed_town("copy-target")
        started = time.perf_counter()
        with schema_context(target.schema_name):
            with transaction.atomic():
                counts = function()
            elapsed = (time.perf_counter() - started) * 1000  # committed
        drop_town("copy-target")
        return elapsed, counts

    statement_ms: dict[str, list[float]] = {}

    def by_statement(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            tables = re.findall(r"INSERT INTO (crm_\w+)", sql)
            if tables:
                statement_ms.setdefault(" + ".join(tables), []).append(
                    (time.perf_counter() - started) * 1000
                )

    def relais_copy() -> dict[str, int]:
        with connection.execute_wrapper(by_statement):
            return catalog_copy_from(source_schema=source.schema_name).counts

    def orm_copy() -> dict[str, int]:
        with schema_context(source.schema_name):
            departments = list(Department.objects.all())
            categories = list(ServiceCategory.objects.all())
            types = list(
                ServiceType.objects.select_related("category", "department").prefetch_related(
                    "attributes__values"
                )
            )
            articles = list(
                FaqArticle.objects.filter(status="published")
                .defer("search_vector", "question_vector")
                .prefetch_related("service_types")
            )
        new_departments = {
            d.pk: Department.objects.create(
                code=d.code, name_fr=d.name_fr, name_en=d.name_en, source_uuid=d.uuid
            )
            for d in departments
        }
        new_categories = {
            c.pk: ServiceCategory.objects.create(
                code=c.code, name_fr=c.name_fr, name_en=c.name_en, order=c.order, source_uuid=c.uuid
            )
            for c in categories
        }
        new_types = {}
        for t in types:
            copy = ServiceType.objects.create(
                code=t.code,
                name_fr=t.name_fr,
                name_en=t.name_en,
                category=new_categories[t.category_id],
                department=new_departments[t.department_id],
                kind=t.kind,
                sla_value=t.sla_value,
                sla_unit=t.sla_unit,
                source_uuid=t.uuid,
            )
            new_types[t.pk] = copy
            for a in t.attributes.all():
                new_attribute = ServiceAttribute.objects.create(
                    service_type=copy,
                    code=a.code,
                    label_fr=a.label_fr,
                    datatype=a.datatype,
                    required=a.required,
                    order=a.order,
                )
                for v in a.values.all():
                    ServiceAttributeValue.objects.create(
                        attribute=new_attribute, key=v.key, name_fr=v.name_fr, order=v.order
                    )
        for f in articles:
            article = FaqArticle.objects.create(
                question_fr=f.question_fr,
                answer_fr=f.answer_fr,
                question_en=f.question_en,
                answer_en=f.answer_en,
                status=f.status,
                audience=f.audience,
                owner_department=new_departments[f.owner_department_id],
                source_uuid=f.uuid,
            )
            linked = [new_types[t.pk] for t in f.service_types.all() if t.pk in new_types]
            if linked:
                article.service_types.set(linked)
        return {"service_types": len(new_types), "faq_articles": len(articles)}

    copy_ms, orm_ms, counts = [], [], {}
    for _ in range(args.copy_samples):
        elapsed, counts = timed_copy(relais_copy)
        copy_ms.append(elapsed)
    for _ in range(max(1, args.copy_samples // 2)):
        elapsed, _counts = timed_copy(orm_copy)
        orm_ms.append(elapsed)

    from onboarding.services import municipality_onboard

    onboard_ms = []
    for index in range(args.copy_samples):
        slug = f"onboard-{index}"
        drop_town(slug)
        spare_schema_create()  # the pool's work, before anyone asks
        started = time.perf_counter()
        municipality_onboard(
            name=f"Ville {slug}",
            slug=slug,
            domain=f"{slug}.localhost",
            host=source,
            region=Region.LAVAL,
            privacy_officer_name="Greffe",
            privacy_officer_email=f"greffe@{slug}.localhost",
            administrator_email=f"admin@{slug}.localhost",
        )
        onboard_ms.append((time.perf_counter() - started) * 1000)
        drop_town(slug)

    report = {
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
        "command": " ".join(sys.argv),
        "towns_present": towns_present,
        "migrate_ms": migrate_ms,
        "claim_ms": claim_ms,
        "migrate_p50_ms": statistics.median(migrate_ms),
        "claim_p50_ms": statistics.median(claim_ms),
        "claim_p95_ms": sorted(claim_ms)[int(0.95 * (len(claim_ms) - 1))],
        "speedup_p50": statistics.median(migrate_ms) / statistics.median(claim_ms),
        "copy_counts": counts,
        "copy_ms": copy_ms,
        "copy_p50_ms": statistics.median(copy_ms),
        "orm_copy_ms": orm_ms,
        "orm_copy_p50_ms": statistics.median(orm_ms),
        "copy_speedup": statistics.median(orm_ms) / statistics.median(copy_ms),
        "onboard_ms": onboard_ms,
        "onboard_p50_ms": statistics.median(onboard_ms),
        "copy_statement_p50_ms": {
            name: statistics.median(values) for name, values in statement_ms.items()
        },
    }
    print()
    print(f"towns present: {towns_present}")
    print(
        f"provisioning p50: migrate {report['migrate_p50_ms']:.0f} ms, claim {report['claim_p50_ms']:.0f} ms "
        f"(p95 {report['claim_p95_ms']:.0f} ms): {report['speedup_p50']:.1f}x"
    )
    print(
        f"catalog copy p50: ORM {report['orm_copy_p50_ms']:.0f} ms, Relais {report['copy_p50_ms']:.0f} ms: "
        f"{report['copy_speedup']:.1f}x  {counts}"
    )
    print(
        f"onboarding (claim + copy + invitation, committed) p50: {report['onboard_p50_ms']:.0f} ms"
    )
    for name, value in report["copy_statement_p50_ms"].items():
        print(f"  {value:6.1f} ms  {name}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "provisioning.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
