"""Full-text search of the information bank, in French and English, accents folded.

Articles carry a stored `search_vector` (crm.models.faq): French fields stemmed with the
`french` configuration, English ones with `english`, questions weighted A and answers B, all
accent-folded. A query is folded the same way and matched in both languages, so `deneigement`
finds `déneigement` and the reverse, and `collecte` finds `collectes`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, QuerySet, Value

from crm.models import FaqArticle, FaqAudience, FaqStatus, Fold

# Question matches (A) count ten times answer matches (B); C and D are unused.
RANK_WEIGHTS = [0.0, 0.0, 0.1, 1.0]
_START, _STOP = "\x02", "\x03"  # headline markers, replaced by <mark> after escaping


@dataclass(frozen=True)
class FaqHit:
    article: FaqArticle
    rank: float
    question: str
    snippet_html: str  # escaped text with <mark> around matched words


def _query(text: str) -> SearchQuery:
    folded = Fold(Value(text))
    return SearchQuery(folded, config="french", search_type="websearch") | SearchQuery(
        folded, config="english", search_type="websearch"
    )


def _headline_query(text: str, config: str) -> SearchQuery:
    # The stored text keeps its accents: match both the words as typed and their folded form.
    return SearchQuery(text, config=config, search_type="websearch") | SearchQuery(
        Fold(Value(text)), config=config, search_type="websearch"
    )


def _marked(headline: str) -> str:
    return html.escape(headline).replace(_START, "<mark>").replace(_STOP, "</mark>")


def faq_search(
    *,
    query: str,
    audience: str = FaqAudience.PUBLIC,
    language: str = "fr",
    statuses: tuple[str, ...] = (FaqStatus.PUBLISHED,),
    limit: int = 20,
) -> list[FaqHit]:
    """The best `limit` articles for `query`, best first, with highlighted snippets.

    `audience` "public" sees public articles only; "agents" sees both audiences. One query.
    """
    text = " ".join(query.split())[:200]
    if not text:
        return []
    audiences: list[str] = (
        [FaqAudience.PUBLIC] if audience == FaqAudience.PUBLIC else list(FaqAudience.values)
    )
    language = "en" if language == "en" else "fr"
    config = "english" if language == "en" else "french"
    search = _query(text)
    articles: QuerySet[Any] = (
        FaqArticle.objects.filter(search_vector=search, status__in=statuses, audience__in=audiences)
        .annotate(
            rank=SearchRank(F("search_vector"), search, weights=RANK_WEIGHTS),
            headline=SearchHeadline(
                f"answer_{language}",
                _headline_query(text, config),
                config=config,
                start_sel=_START,
                stop_sel=_STOP,
                max_fragments=2,
                max_words=30,
                min_words=12,
            ),
        )
        .order_by("-rank", "id")[:limit]
    )
    return [
        FaqHit(
            article=article,
            rank=float(article.rank),
            question=article.localized("question")
            if language == "fr"
            else (article.question_en or article.question_fr),
            snippet_html=_marked(article.headline or ""),
        )
        for article in articles
    ]
