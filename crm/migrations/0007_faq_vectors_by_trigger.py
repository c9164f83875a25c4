"""The information bank's search vectors become plain columns kept by a trigger.

Generated columns are recomputed on every insert, which made copying a host's bank into a new
town parse every article again (about 0.5 ms each). The trigger computes the vectors when the
text is new or changed, and keeps vectors given with an insert (a copy of the same text).
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations

FOLD = (
    "translate(replace(replace(lower({col}), 'œ', 'oe'), 'æ', 'ae'), "
    "'àâäáãåçéèêëíìîïñóòôöõúùûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy')"
)
QUESTIONS = (
    f"setweight(to_tsvector('french', coalesce({FOLD.format(col='NEW.question_fr')}, '')), 'A') || "
    f"setweight(to_tsvector('english', coalesce({FOLD.format(col='NEW.question_en')}, '')), 'A')"
)
ANSWERS = (
    f"setweight(to_tsvector('french', coalesce({FOLD.format(col='NEW.answer_fr')}, '')), 'B') || "
    f"setweight(to_tsvector('english', coalesce({FOLD.format(col='NEW.answer_en')}, '')), 'B')"
)

TRIGGER = f"""
CREATE FUNCTION crm_faq_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.search_vector IS NOT NULL AND NEW.question_vector IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
       AND NEW.question_fr IS NOT DISTINCT FROM OLD.question_fr
       AND NEW.question_en IS NOT DISTINCT FROM OLD.question_en
       AND NEW.answer_fr IS NOT DISTINCT FROM OLD.answer_fr
       AND NEW.answer_en IS NOT DISTINCT FROM OLD.answer_en THEN
        NEW.search_vector := OLD.search_vector;
        NEW.question_vector := OLD.question_vector;
        RETURN NEW;
    END IF;
    NEW.question_vector := {QUESTIONS};
    NEW.search_vector := NEW.question_vector || {ANSWERS};
    RETURN NEW;
END;
$$;
CREATE TRIGGER crm_faq_vectors BEFORE INSERT OR UPDATE ON crm_faqarticle
    FOR EACH ROW EXECUTE FUNCTION crm_faq_vectors();
"""

FILL = f"""
UPDATE crm_faqarticle SET
    question_vector = {QUESTIONS.replace('NEW.', '')},
    search_vector = {QUESTIONS.replace('NEW.', '')} || {ANSWERS.replace('NEW.', '')};
"""

DROP = """
DROP TRIGGER IF EXISTS crm_faq_vectors ON crm_faqarticle;
DROP FUNCTION IF EXISTS crm_faq_vectors();
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_interaction_time")]

    operations = [
        migrations.RemoveIndex(model_name="faqarticle", name="faq_search_idx"),
        migrations.RemoveIndex(model_name="faqarticle", name="faq_question_idx"),
        migrations.RemoveField(model_name="faqarticle", name="search_vector"),
        migrations.RemoveField(model_name="faqarticle", name="question_vector"),
        migrations.AddField(
            model_name="faqarticle",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="faqarticle",
            name="question_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGER, DROP),
        migrations.AddIndex(
            model_name="faqarticle",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="faq_search_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="faqarticle",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["question_vector"], name="faq_question_idx"
            ),
        ),
    ]
