"""Free-text search over an item's text, external id, tags and metadata, answered from an index on both
databases: on PostgreSQL a GIN expression index over one ``to_tsvector('simple', …)`` document (migration
``0016_item_search_index``), on SQLite an FTS5 table ``annotation_item_fts`` kept in sync by triggers.

Both sides see the same words: the query is split here into words (letters and digits, lower-cased) and every one
must start a word of the item (``cat`` finds "cats", ``img-001`` finds "img-001"), so neither database's query
syntax reaches the user. The 'simple' configuration (no stemming, no stop words) is used because items come in
any language (Korean among them) and ids and tag values must match as written; FTS5's unicode61 tokenizer is its
counterpart. PostgreSQL's parser keeps some forms whole (``img-002`` became ``img`` and ``-002``, a signed
number; e-mail addresses, URLs, decimals), so punctuation is turned into spaces before it parses: both databases
then split on the same characters.
"""

import re
from importlib import import_module

from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

# The indexed expression, written exactly as the index in 0016_item_search_index writes it: PostgreSQL uses an
# expression index only for a query that repeats the expression.
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    '"annotation_item"."text" || \' \' || "annotation_item"."external_id" || \' \' || '
    '"annotation_item"."tags"::text || \' \' || "annotation_item"."metadata"::text, '
    "'[[:punct:]]+', ' ', 'g'))"
)
PG_INDEX_NAME = "item_search_idx"
SQLITE_TABLE = "annotation_item_fts"
SQLITE_WATERMARK_TABLE = "annotation_item_fts_watermark"
# The body the migrations' triggers index, so the catch-up indexes the same words as an edit does.
SQLITE_BODY = import_module("annotation.migrations.0016_item_search_index").SQLITE_BODY

MAX_TOKENS = 16


def search_tokens(query: str) -> list[str]:
    """The words of a query, lower-cased (an underscore splits words, as in both tokenizers), at most
    ``MAX_TOKENS`` (a pasted paragraph is not a search)."""
    return re.findall(r"[^\W_]+", query.lower())[:MAX_TOKENS]


def sqlite_index_catch_up() -> None:
    """Index on SQLite the items added since the last search. Cheap (two index lookups) when none were; the first
    search after a large import pays for indexing it once."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT last_id FROM {SQLITE_WATERMARK_TABLE}), (SELECT max(id) FROM annotation_item)"
        )
        indexed, newest = cursor.fetchone()
    if newest is None or newest <= indexed:
        return
    # An outermost atomic block begins IMMEDIATE here (the settings' transaction_mode), so it waits for the one
    # write lock, and the watermark is read again under it: two searches never index an item twice (FTS5 would
    # keep both rows), and no item is inserted between the indexing and the watermark's move.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT id, {SQLITE_BODY.format(row='annotation_item')} "
            f"FROM annotation_item WHERE id > (SELECT last_id FROM {SQLITE_WATERMARK_TABLE})"
        )
        cursor.execute(
            f"UPDATE {SQLITE_WATERMARK_TABLE} "
            "SET last_id = max(last_id, coalesce((SELECT max(id) FROM annotation_item), 0))"
        )


def item_search_q(query: str) -> Q | RawSQL | None:
    """A filter for ``Item`` querysets keeping the items that contain every word of ``query`` as the start of a
    word; None when the query has no words (search nothing: the caller leaves the list as it is)."""
    tokens = search_tokens(query)
    if not tokens:
        return None
    if connection.vendor == "postgresql":
        ts_query = " & ".join(f"{token}:*" for token in tokens)
        return RawSQL(
            f"{PG_DOCUMENT} @@ to_tsquery('simple'::regconfig, %s)", [ts_query], output_field=BooleanField()
        )
    sqlite_index_catch_up()
    # FTS5 query syntax: each token quoted (so words like NOT or NEAR stay words), a trailing * for the prefix.
    match = " ".join(f'"{token}"*' for token in tokens)
    return Q(id__in=RawSQL(f"SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s", [match]))
