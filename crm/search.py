"""Full-text search of the information bank, in French and English, accents folded.

Articles carry two stored vectors kept by a trigger (crm.models.faq): `question_vector`
(questions only, weight A) and `search_vector` (questions A, answers B). French text is
stemmed with the `french` configuration, English with `english`, all accent-folded; a query is
folded the same way and matched in both languages, so `deneigement` finds `déneigement` and
`collecte` finds `collectes`.

Ranking every matching article is what makes a common word slow (thousands of matches). Since
a match in the question always outranks a match in the answer alone (weights 1.0 and 0.1), the
search looks at questions first: the best RERANK_POOL question matches (ranked on the short
question vectors) are re-ranked on the full vector; answers are only searched when questions
give fewer results than asked, and then among at most ANSWER_POOL answer-only matches.
bench/search.py measures this against ranking every match.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import F, QuerySet, Value
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import FaqArticle, FaqAudience, FaqStatus, Fold, fold_text

# Question matches (A) count ten times answer matches (B); C and D are unused.
RANK_WEIGHTS = [0.0, 0.0, 0.1, 1.0]
RERANK_POOL = 200
ANSWER_POOL = 150
# Headline markers, replaced by <mark> after escaping, and the fragment separator.
_START, _STOP, _DELIMITER = "\x02", "\x03", "\x04"


@dataclass(frozen=True)
class FaqHit:
    article: FaqArticle
    rank: float
    question: str
    snippet_html: str  # escaped text with <mark> around matched words


def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """`fold_text(text)` and, for each of its characters, the position it came from."""
    whole = fold_text(text)
    if len(whole) == len(text):  # the usual case: folding kept every character in place
        return whole, list(range(len(text)))
    folded: list[str] = []
    origin: list[int] = []
    for position, character in enumerate(text):
        piece = fold_text(character)
        folded.append(piece)
        origin.extend([position] * len(piece))
    return "".join(folded), origin


def _restore_accents(original: str, headline: str) -> str:
    """Escaped snippet of `original` with <mark> where the folded headline marked words.

    The headline is computed on the folded text, so `deneigement` highlights `déneigement`;
    this maps its fragments and marks back onto the text as written.
    """
    folded, origin = _folded_with_positions(original)
    fragments = []
    for fragment in headline.split(_DELIMITER):
        plain = fragment.replace(_START, "").replace(_STOP, "")
        at = folded.find(plain) if plain else -1
        if at < 0:  # PostgreSQL reshaped the text (markup): show the folded fragment as is
            fragments.append(
                html.escape(fragment).replace(_START, "<mark>").replace(_STOP, "</mark>")
            )
            continue
        pieces, cursor, folded_position = [], origin[at], at
        for character in fragment:
            if character in (_START, _STOP):
                here = origin[folded_position] if folded_position < len(origin) else len(original)
                if character == _STOP:
                    here = origin[folded_position - 1] + 1
                pieces.append(html.escape(original[cursor:here]))
                pieces.append("<mark>" if character == _START else "</mark>")
                cursor = here
            else:
                folded_position += 1
        end = origin[folded_position - 1] + 1 if folded_position > at else cursor
        pieces.append(html.escape(original[cursor:end]))
        fragments.append("".join(pieces))
    return " … ".join(fragment.strip() for fragment in fragments if fragment.strip())


_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")


def _normalized(query: str) -> str:
    # "nid-de-poule" must find "nids-de-poule": search the parts, not the compound.
    return " ".join(_INNER_HYPHEN.sub(" ", query).split())[:200]


def _ranked_sql(*, any_word: bool) -> str:
    table = FaqArticle._meta.db_table
    fold = Fold.template % {"expressions": "%(text)s"}
    words = f"websearch_to_tsquery('french', {fold}) || websearch_to_tsquery('english', {fold})"
    if any_word:
        # "quand passe la collecte" should find "Quel jour passe la collecte…": every word
        # becomes optional (phrases and exclusions are kept as typed).
        words = (
            f"CASE WHEN strpos(({words})::text, '<') > 0 OR strpos(({words})::text, '!') > 0 "
            f"THEN {words} ELSE replace(({words})::text, ' & ', ' | ')::tsquery END"
        )
    weights = "{" + ",".join(str(w) for w in RANK_WEIGHTS) + "}"
    visible = "a.status = ANY(%(statuses)s) AND a.audience = ANY(%(audiences)s)"
    # One round trip. `best`: the RERANK_POOL best question matches, re-ranked on the full
    # vector. `fill`: answer-only matches, searched only when `best` is short (the count is a
    # one-time filter PostgreSQL evaluates before scanning anything). Only constants are
    # formatted in; the user's words are a bound parameter.
    return f"""
    WITH q AS (SELECT {words} AS query),
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


_ALL_WORDS_SQL = _ranked_sql(any_word=False)
_ANY_WORD_SQL = _ranked_sql(any_word=True)


def ranked_ids(
    *, query: str, audiences: list[str], statuses: tuple[str, ...], limit: int
) -> list[tuple[int, float]]:
    """(article id, rank) of the best `limit` matches, best first.

    Articles with every word come first; when they are fewer than `limit` and the query has
    several words, articles with some of the words follow. One query, two in that case.
    """
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
        cursor.execute(_ALL_WORDS_SQL, params)
        found = [(pk, float(rank)) for pk, rank in cursor.fetchall()]
        if len(found) < limit and len(text.split()) > 1:
            cursor.execute(_ANY_WORD_SQL, params)
            seen = {pk for pk, _rank in found}
            found += [(pk, float(rank)) for pk, rank in cursor.fetchall() if pk not in seen]
    return found[:limit]


def faq_search(
    *,
    query: str,
    audience: str = FaqAudience.PUBLIC,
    language: str = "fr",
    statuses: tuple[str, ...] = (FaqStatus.PUBLISHED,),
    limit: int = 20,
) -> list[FaqHit]:
    """The best `limit` articles for `query`, best first, with highlighted snippets.

    `audience` "public" sees public articles only; "agents" sees both audiences (anything else
    is a CrmError). Two queries whatever the number of matches (the ranking, then the articles
    with their snippets), three when a several-word query falls back to any of its words.
    """
    if audience not in FaqAudience.values:
        raise CrmError(
            CrmErrorCode.INVALID_AUDIENCE,
            _("Public cible inconnu : {audience}.").format(audience=audience),
            field="audience",
        )
    audiences: list[str] = (
        [FaqAudience.PUBLIC] if audience == FaqAudience.PUBLIC else list(FaqAudience.values)
    )
    ranks = dict(ranked_ids(query=query, audiences=audiences, statuses=statuses, limit=limit))
    if not ranks:
        return []
    language = "en" if language == "en" else "fr"
    config = "english" if language == "en" else "french"
    # The stored vectors are large and of no use to display: leave them in the database.
    articles: QuerySet[Any] = (
        FaqArticle.objects.filter(pk__in=ranks)
        .defer("search_vector", "question_vector")
        .annotate(
            headline=SearchHeadline(
                Fold(F(f"answer_{language}")),
                SearchQuery(
                    Fold(Value(_normalized(query))), config=config, search_type="websearch"
                ),
                config=config,
                start_sel=_START,
                stop_sel=_STOP,
                fragment_delimiter=_DELIMITER,
                max_fragments=2,
                max_words=30,
                min_words=12,
            )
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
            snippet_html=_restore_accents(
                getattr(by_id[pk], f"answer_{language}"), by_id[pk].headline or ""
            ),
        )
        for pk, rank in ranks.items()
    ]
