"""The labelling hot path's hand-written statements, all of them: the queue's pick, lease and slot checks, the
submission's reads under the item lock, the membership read and the label set. Token authentication's
statement lives here too.

Why SQL at all: these run on every ``next`` and submit, their shape never changes, and composing them with the
ORM was most of the request's CPU time (bench/results/annotate_load.md). Reads that rarely change are cached
first (``annotation.hotpath_cache``); what is left is here. Every statement is built from model metadata
(``_meta.db_table``, ``field.column``), never a literal table name, and each has an ORM twin it is tested against
on PostgreSQL and SQLite (tests/annotation/test_hotpath_sql.py). Our own constants (statuses, states) are inlined as
literals, never user input: SQLite uses the partial queue index only when the query repeats the index's
condition with literal values.
"""

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

from annotation.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Guideline,
    Item,
    Label,
    Membership,
    Project,
)
from annotation.models.item import OPEN_STATUSES


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


# Names are looked up once per process (a process talks to one database vendor); statements are put together
# from them per call, which costs microseconds.
@functools.cache
def _table(model: type[Model]) -> str:
    return _quote(model._meta.db_table)


def _column_name(model: type[Model], field: str) -> str:
    """The database column of one of the model's own fields; ValueError for a reverse relation or a field
    without a column (the statements here read only stored columns)."""
    found = model._meta.get_field(field)
    column = found.column if isinstance(found, Field) else None
    if column is None:
        raise ValueError(f"{model.__name__}.{field} is not a column")
    return column


@functools.cache
def _column(model: type[Model], field: str, alias: str | None = None) -> str:
    """``alias.column`` of a field, quoted; the table's own name when no alias is given."""
    prefix = _quote(alias) if alias else _table(model)
    return f"{prefix}.{_quote(_column_name(model, field))}"


def _literals(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _for_update(*, skip_locked: bool = False, of: tuple[str, ...] = ()) -> str:
    """The row-lock clause, empty on SQLite (its IMMEDIATE transactions already serialise writers)."""
    if not connection.features.has_select_for_update:
        return ""
    return " " + connection.ops.for_update_sql(skip_locked=skip_locked, of=of)


def _now(now: datetime) -> str | None:
    return connection.ops.adapt_datetimefield_value(now)


# Rows become model instances here rather than through ``Manager.raw``: a raw queryset matches the cursor's
# columns to fields and collects their converters again on every call, which cost more CPU than running the
# statement itself. These statements name their columns, so the matching and the converters are worked out once
# per model, columns and database; each value then goes through the converters the ORM's own compiler applies.
M = TypeVar("M", bound=Model)


def _loaded_fields(model: type[Model], fields: Sequence[str] | None) -> tuple[Field, ...]:
    """The model's concrete fields in ``fields`` (all when None), in the model's own order: ``Model.from_db``
    takes values in that order."""
    wanted = None if fields is None else set(fields)
    return tuple(f for f in model._meta.concrete_fields if wanted is None or f.name in wanted)


def _select_list(model: type[Model], fields: Sequence[str] | None, alias: str | None = None) -> str:
    """The quoted columns ``_instances`` reads for ``fields`` (all when None), in the order it expects them."""
    return ", ".join(_column(model, f.name, alias) for f in _loaded_fields(model, fields))


@functools.cache
def _loader(model: type[Model], fields: tuple[str, ...] | None, using: str) -> tuple[list[str], list[tuple]]:
    """(attnames for ``Model.from_db``, [(position, column expression, converters)] for values needing one)."""
    db = connections[using]
    loaded = _loaded_fields(model, fields)
    converters = []
    for position, field in enumerate(loaded):
        column = field.get_col(model._meta.db_table)
        found = db.ops.get_db_converters(column) + column.get_db_converters(db)
        if found:
            converters.append((position, column, found))
    return [field.attname for field in loaded], converters


def _instances(
    model: type[M],
    sql: str,
    params: Sequence,
    *,
    fields: Sequence[str] | None = None,
    extra: int = 0,
    using: str = DEFAULT_DB_ALIAS,
) -> list[tuple[M, tuple]]:
    """Run ``sql`` (its columns: ``_select_list(model, fields)``, then ``extra`` more) and return each row as
    (an instance with those fields loaded and the others deferred, the extra values)."""
    db = connections[using]
    attnames, converters = _loader(model, None if fields is None else tuple(fields), using)
    width = len(attnames)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        values = list(row[:width])
        for position, column, functions in converters:
            value = values[position]
            for function in functions:
                value = function(value, column, db)
            values[position] = value
        out.append((model.from_db(using, attnames, values), tuple(row[width : width + extra])))
    return out


def _first(found: list[tuple[M, tuple]]) -> M | None:
    return found[0][0] if found else None


# -- Token authentication ---------------------------------------------------------------------------------------


@functools.cache
def token_user_sql(token_model: type[Model], user_model: type[Model], using: str) -> str:
    """The token's user, by key (one parameter); every column of the user. Built once per models and database."""
    quote = connections[using].ops.quote_name
    token_key = token_model._meta.pk
    columns = ", ".join(f"account.{quote(field.column)}" for field in _loaded_fields(user_model, None))
    return (
        f"SELECT {columns} FROM {quote(user_model._meta.db_table)} account "
        f"JOIN {quote(token_model._meta.db_table)} token "
        f"ON token.{quote(_column_name(token_model, 'user'))} = account.{quote(user_model._meta.pk.column)} "
        f"WHERE token.{quote(token_key.column)} = %s"
    )


def user_for_token(
    *, token_model: type[Model], user_model: type[Model], using: str, key: str
) -> Model | None:
    """The user (every column loaded) whose token has this key, or None."""
    return _first(_instances(user_model, token_user_sql(token_model, user_model, using), [key], using=using))


# -- Membership and label set -----------------------------------------------------------------------------------

MEMBERSHIP_EXTRA = (
    "membership_id",
    "membership_role",
    "membership_acknowledged",
    "latest_guideline_id",
    "latest_guideline_version",
)


def _membership_sql() -> str:
    project_columns = _select_list(Project, None)

    def latest(field: str) -> str:
        return (
            f"(SELECT {_column(Guideline, field, 'g')} FROM {_table(Guideline)} g "
            f"WHERE {_column(Guideline, 'project', 'g')} = {_column(Project, 'id')} "
            f"ORDER BY {_column(Guideline, 'version', 'g')} DESC LIMIT 1)"
        )

    extra = zip(
        MEMBERSHIP_EXTRA,
        (
            _column(Membership, "id", "m"),
            _column(Membership, "role", "m"),
            _column(Membership, "acknowledged_guideline_version", "m"),
            latest("id"),
            latest("version"),
        ),
        strict=True,
    )
    return (
        f"SELECT {project_columns}, {', '.join(f'{expression} AS {_quote(name)}' for name, expression in extra)} "
        f"FROM {_table(Membership)} m JOIN {_table(Project)} ON {_column(Project, 'id')} = "
        f"{_column(Membership, 'project', 'm')} "
        f"WHERE {_column(Membership, 'user', 'm')} = %s AND {_column(Membership, 'project', 'm')} = %s"
    )


def membership_row(*, user_id: int, project_id: int) -> tuple[Project, dict[str, Any]] | None:
    """The project (every column) and the user's membership in it with the project's newest guideline, or None.

    The dict holds ``MEMBERSHIP_EXTRA``: the membership's id, role and acknowledged version, and the newest
    guideline's id and version (None when the project has none)."""
    found = _instances(Project, _membership_sql(), [user_id, project_id], extra=len(MEMBERSHIP_EXTRA))
    if not found:
        return None
    project, extra = found[0]
    return project, dict(zip(MEMBERSHIP_EXTRA, extra, strict=True))


def _label_values_sql() -> str:
    return (
        f"SELECT {_column(Label, 'value')} FROM {_table(Label)} "
        f"WHERE {_column(Label, 'project')} = %s AND {_column(Label, 'is_active')} = %s"
    )


def label_values(*, project_id: int) -> set[str]:
    """The project's active label values."""
    with connection.cursor() as cursor:
        cursor.execute(_label_values_sql(), [project_id, True])
        return {value for (value,) in cursor.fetchall()}


# -- The queue --------------------------------------------------------------------------------------------------

# What the queue and the annotator's view of an item read; the rest (profile, sketches, quality fields) stays
# deferred instead of being decoded on every pick.
SERVED_FIELDS = (
    "id",
    "project",
    "external_id",
    "text",
    "file",
    "content_type",
    "is_gold",
    "status",
    "priority",
    "target_annotations",
    "annotation_count",
    "predicted_label",
    "predicted_probs",
)


def _active_leases(item_column: str) -> str:
    """SQL counting the unexpired leases of the item in ``item_column``; takes one parameter, now."""
    return (
        f"(SELECT COUNT(*) FROM {_table(Assignment)} lease WHERE {_column(Assignment, 'item', 'lease')} = "
        f"{item_column} AND {_column(Assignment, 'state', 'lease')} = '{AssignmentState.ACTIVE}' "
        f"AND {_column(Assignment, 'expires_at', 'lease')} > %s)"
    )


def _pick_sql(gold: bool, n_passed_over: int) -> str:
    # Keep this order: where two indexes cost the same, SQLite's planner takes the terms as written, and with
    # project_id before is_gold it picks item_status_idx and sorts every open item.
    where = [
        f"{_column(Item, 'status')} IN ({_literals(OPEN_STATUSES)})",
        f"{_column(Item, 'is_gold')} IN (%s)",
        f"{_column(Item, 'project')} = %s",
        f"NOT EXISTS (SELECT 1 FROM {_table(Assignment)} seen WHERE {_column(Assignment, 'item', 'seen')} = "
        f"{_column(Item, 'id')} AND {_column(Assignment, 'annotator', 'seen')} = %s)",
    ]
    if not gold:
        where.append(
            f"{_column(Item, 'target_annotations')} > {_column(Item, 'annotation_count')} + "
            f"{_active_leases(_column(Item, 'id'))}"
        )
    if n_passed_over:
        where.append(f"{_column(Item, 'id')} NOT IN ({', '.join(['%s'] * n_passed_over)})")
    served = _select_list(Item, SERVED_FIELDS)
    return (
        f"SELECT {served} FROM {_table(Item)} WHERE {' AND '.join(where)} "
        f"ORDER BY {_column(Item, 'priority')} DESC, {_column(Item, 'id')} LIMIT 1"
        # skip_locked: two annotators asking at once get different items instead of waiting on one row.
        + _for_update(skip_locked=True, of=(_table(Item),))
    )


def pick_statement(
    *, project_id: int, user_id: int, now: datetime, gold: bool, passed_over: Sequence[int] = ()
) -> tuple[str, list]:
    """The queue's locked, ordered pick as SQL and parameters: the first open item of the project the user holds
    no assignment on, by priority then id, gold or not; a non-gold item also needs a free slot (target above
    live annotations plus unexpired leases). ``passed_over``: ids to leave out.

    Written so SQLite can walk the partial queue index (project, is_gold, priority DESC, id) WHERE status IN open:
    the status condition is repeated with literal values, and is_gold is compared with IN because SQLite cannot
    seek on "NOT is_gold". Without both, every call sorted all open items.
    """
    params: list = [gold, project_id, user_id]
    if not gold:
        params.append(_now(now))
    params.extend(passed_over)
    return _pick_sql(gold, len(passed_over)), params


def pick(
    *, project_id: int, user_id: int, now: datetime, gold: bool, passed_over: Sequence[int] = ()
) -> Item | None:
    """Run ``pick_statement``: the item (``SERVED_FIELDS`` loaded, the rest deferred), locked, or None."""
    sql, params = pick_statement(
        project_id=project_id, user_id=user_id, now=now, gold=gold, passed_over=passed_over
    )
    return _first(_instances(Item, sql, params, fields=SERVED_FIELDS))


def _has_room_sql() -> str:
    return (
        f"SELECT 1 FROM {_table(Item)} WHERE {_column(Item, 'id')} = %s AND {_column(Item, 'target_annotations')} "
        f"> {_column(Item, 'annotation_count')} + {_active_leases(_column(Item, 'id'))}"
    )


def item_has_room(*, item_id: int, now: datetime) -> bool:
    """Whether the item's target is above its live annotations plus unexpired leases."""
    with connection.cursor() as cursor:
        cursor.execute(_has_room_sql(), [item_id, _now(now)])
        return cursor.fetchone() is not None


def _lease_sql() -> str:
    return (
        f"SELECT {_select_list(Assignment, None, 'a')} FROM {_table(Assignment)} a JOIN {_table(Item)} ON {_column(Item, 'id')} = "
        f"{_column(Assignment, 'item', 'a')} "
        f"WHERE {_column(Assignment, 'project', 'a')} = %s AND {_column(Assignment, 'annotator', 'a')} = %s "
        f"AND {_column(Assignment, 'state', 'a')} = '{AssignmentState.ACTIVE}' "
        f"AND {_column(Assignment, 'expires_at', 'a')} > %s AND {_column(Item, 'status')} IN ({_literals(OPEN_STATUSES)}) "
        f"ORDER BY {_column(Assignment, 'created_at', 'a')}, {_column(Assignment, 'id', 'a')} LIMIT 1"
    )


def lease_active(*, project_id: int, user_id: int, now: datetime) -> Assignment | None:
    """The user's oldest unexpired active lease in the project on an item that is still open, or None."""
    return _first(_instances(Assignment, _lease_sql(), [project_id, user_id, _now(now)]))


# -- A submission's reads, under the item lock ------------------------------------------------------------------

LOCKED_ITEM_FIELDS = ("id", "status", "is_gold", "annotation_count", "target_annotations")


def _item_locked_sql() -> str:
    columns = _select_list(Item, LOCKED_ITEM_FIELDS)
    return (
        f"SELECT {columns} FROM {_table(Item)} WHERE {_column(Item, 'project')} = %s AND {_column(Item, 'id')} = %s"
        + _for_update()
    )


def item_locked(*, project_id: int, item_id: int) -> Item | None:
    """The item's row, locked until the transaction ends (``LOCKED_ITEM_FIELDS`` loaded), or None when it is
    not in the project."""
    return _first(_instances(Item, _item_locked_sql(), [project_id, item_id], fields=LOCKED_ITEM_FIELDS))


def _own_annotations_sql(with_client_id: bool) -> str:
    where = f"{_column(Annotation, 'item')} = %s"
    if with_client_id:
        where += f" OR {_column(Annotation, 'client_id')} = %s"
    return (
        f"SELECT {_select_list(Annotation, None)} FROM {_table(Annotation)} "
        f"WHERE {_column(Annotation, 'annotator')} = %s AND ({where}) "
        f"ORDER BY {_column(Annotation, 'is_live')} DESC, {_column(Annotation, 'id')} DESC"
    )


def annotations_own(*, user_id: int, item_id: int, client_id: object | None) -> list[Annotation]:
    """The user's annotations on the item and the one stored under ``client_id`` (a UUID or None), live ones
    first, then newest first."""
    params: list = [user_id, item_id]
    if client_id is not None:
        params.append(Annotation._meta.get_field("client_id").get_db_prep_value(client_id, connection))
    return [row for row, _ in _instances(Annotation, _own_annotations_sql(client_id is not None), params)]


def _own_assignment_sql() -> str:
    return (
        f"SELECT {_select_list(Assignment, None)} FROM {_table(Assignment)} WHERE {_column(Assignment, 'item')} = %s "
        f"AND {_column(Assignment, 'annotator')} = %s"
    )


def assignment_own(*, item_id: int, user_id: int) -> Assignment | None:
    """The user's assignment on the item (at most one: unique per item and annotator), or None."""
    return _first(_instances(Assignment, _own_assignment_sql(), [item_id, user_id]))
