"""A portable SQL aggregate the freeze needs and Django 5.2 lacks outside django.contrib.postgres."""

from django.db.models import Aggregate, TextField


class JoinedIds(Aggregate):
    """The group's values as one comma-separated text, ascending on PostgreSQL (callers sort on SQLite)."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',' ORDER BY %(expressions)s)",
            **extra,
        )
