"""Full-text search of the information bank, in French and English, accents folded.

Articles carry two stored vectors (crm.models.faq): `question_vector` (questions only, weight A)
and `search_vector` (questions A, answers B). French text is stemmed with the `french`
configuration, English with `english`, all accent-folded; a query is folded the same way and
matched in both languages, so `deneigement` finds `déneigement` and `collecte` finds `collectes`.

Ranking every matching article is what makes a common word slow (thousands of matches). Since
a match in the question always outranks a match in the answer alone (weights 1.0 and 0.1), the
search looks at questions first: the best RERANK_POOL question matches (ranked on the short
question vectors) are re-ranked on the full vector; answers are only searched when questions
give fewer results than asked, and then among at most ANSWER_POOL answer-only matches.
bench/search.py measures this against ranking every match.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import QuerySet, Value

from crm.models import FaqArticle, FaqAudience, FaqStatus, Fold

# Question matches (A) count ten times answer matches (B); C and D are unused.
RANK_WEIGHTS = [0.0, 0.0, 0.1, 1.0]
RERANK_POOL = 200
ANSWER_POOL = 150
_START, _STOP = "\x02", "\x03"  # headline markers, replaced by <mark> after escaping


@dataclass(frozen=True)
class FaqHit:
    article: FaqArticle
    rank: float
    question: str
    snippet_html: str  # escaped text with <mark> around matched words


def _headline_query(text: str, config: str) -> SearchQuery:
    # The stored text keeps its accents: match both the words as typed and their folded form.
    return SearchQuery(text, config=config, search_type="websearch") | SearchQuery(
        Fold(Value(text)), config=config, search_type="websearch"
    )


def _marked(headline: str) -> str:
    return html.escape(headline).replace(_START, "<mark>").replace(_STOP, "</mark>")


def _normalized(query: str) -> str:
    return " ".join(query.split())[:200]


def _ranked_sql() -> str:
    table = FaqArticle._meta.db_table
    fold = Fold.template % {"expressions": "%(text)s"}
    weights = "{" + ",".join(str(w) for w in RANK_WEIGHTS) + "}"
    visible = "a.status = ANY(%(statuses)s) AND a.audience = ANY(%(audiences)s)"
    # One round trip. `best`: the RERANK_POOL best question matches, re-ranked on the full
    # vector. `fill`: answer-only matches, searched only when `best` is short (the count is a
    # one-time filter PostgreSQL evaluates before scanning anything). Only constants are
    # formatted in; the user's words are a bound parameter.
    return f"""
    WITH q AS (
        SELECT websearch_to_tsquery('french', {fold})
            || websearch_to_tsquery('english', {fold}) AS query
    ),
    pool AS (
        SELECT a.id FROM {table} a, q
        WHERE a.question_vector @@ q.query AND {visible}
        ORDER BY ts_rank(a.question_vector, q.query) DESC, a.id
        LIMIT {RERANK_POOL}
    ),
    best AS (
        SELECT a.id, ts_rank('{weights}', a.search_vector, q.query) AS rank, 0 AS tier
        FROM {table} a, q WHERE a.id IN (SELECT id FROM pool)
        ORDER BY rank DESC, a.id LIMIT %(limit)s
    ),
    answers AS (
        SELECT a.id FROM {table} a, q
        WHERE (SELECT count(*) FROM best) < %(limit)s
          AND a.search_vector @@ q.query AND NOT a.question_vector @@ q.query AND {visible}
        LIMIT {ANSWER_POOL}
    ),
    fill AS (
        SELECT a.id, ts_rank('{weights}', a.search_vector, q.query) AS rank, 1 AS tier
        FROM {table} a, q WHERE a.id IN (SELECT id FROM answers)
        ORDER BY rank DESC, a.id LIMIT %(limit)s
    )
    SELECT id, rank FROM (SELECT * FROM best UNION ALL SELECT * FROM fill) AS found
    ORDER BY tier, rank DESC, id LIMIT %(limit)s
    """


_RANKED_SQL = _ranked_sql()


def ranked_ids(
    *, query: str, audiences: list[str], statuses: tuple[str, ...], limit: int
) -> list[tuple[int, float]]:
    """(article id, rank) of the best `limit` matches, best first. One query."""
    text = _normalized(query)
    if not text:
        return []
    params: dict[str, Any] = {
        "text": text,
        "statuses": list(statuses),
        "audiences": list(audiences),
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RANKED_SQL, params)
        return [(pk, float(rank)) for pk, rank in cursor.fetchall()]


def faq_search(
    *,
    query: str,
    audience: str = FaqAudience.PUBLIC,
    language: str = "fr",
    statuses: tuple[str, ...] = (FaqStatus.PUBLISHED,),
    limit: int = 20,
) -> list[FaqHit]:
    """The best `limit` articles for `query`, best first, with highlighted snippets.

    `audience` "public" sees public articles only; "agents" sees both audiences. Two queries
    whatever the number of matches: the ranking, then the articles with their snippets.
    """
    audiences: list[str] = (
        [FaqAudience.PUBLIC] if audience == FaqAudience.PUBLIC else list(FaqAudience.values)
    )
    ranks = dict(ranked_ids(query=query, audiences=audiences, statuses=statuses, limit=limit))
    if not ranks:
        return []
    language = "en" if language == "en" else "fr"
    config = "english" if language == "en" else "french"
    articles: QuerySet[Any] = FaqArticle.objects.filter(pk__in=ranks).annotate(
        headline=SearchHeadline(
            f"answer_{language}",
            _headline_query(_normalized(query), config),
            config=config,
            start_sel=_START,
            stop_sel=_STOP,
            max_fragments=2,
            max_words=30,
            min_words=12,
        )
    )
    by_id = {article.pk: article for article in articles}
    return [
        FaqHit(
            article=by_id[pk],
            rank=rank,
            question=by_id[pk].question_fr
            if language == "fr"
            else (by_id[pk].question_en or by_id[pk].question_fr),
            snippet_html=_marked(by_id[pk].headline or ""),
        )
        for pk, rank in ranks.items()
    ]
