"""Fast bulk inserts for freeze: COPY on PostgreSQL, one ``executemany`` elsewhere.

A 1,000,000-entry freeze spends most of its time inserting; ``bulk_create`` builds a model instance and a
parameter list per row (and SQLite caps a statement at 999 parameters, about 75 entries), so it manages a few
thousand rows a second. COPY and ``executemany`` take plain tuples. Rows are plain Python values in ``columns``
order (attnames, e.g. ``item_id``); JSON columns are encoded here, the same way on every backend.
"""

import json
from collections.abc import Iterable

from django.db import connection, models


def _encoded(
    *, model: type[models.Model], columns: list[str], rows: Iterable[tuple], json_as_text: bool
) -> Iterable[tuple]:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    json_positions = [i for i, name in enumerate(columns) if isinstance(fields[name], models.JSONField)]
    if json_as_text or not json_positions:
        yield from rows
        return
    for row in rows:
        values = list(row)
        for position in json_positions:
            values[position] = json.dumps(values[position], ensure_ascii=False, separators=(",", ":"))
        yield tuple(values)


def insert_rows(
    *, model: type[models.Model], columns: list[str], rows: Iterable[tuple], json_as_text: bool = False
) -> int:
    """Insert the rows inside the caller's transaction (no signals, no ``save()``); returns how many.

    ``json_as_text``: the JSON columns already hold JSON text (e.g. read from the database), so are not encoded.
    """
    fields = {field.attname: field for field in model._meta.concrete_fields}
    db_columns = [fields[name].column for name in columns]
    encoded = _encoded(model=model, columns=columns, rows=rows, json_as_text=json_as_text)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in db_columns)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in encoded:
                    copy.write_row(row)
                    written += 1
        else:
            batch = list(encoded)
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", batch)
            written = len(batch)
    return written
