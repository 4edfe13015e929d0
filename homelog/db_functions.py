"""Database functions Django does not ship."""

from django.db.models import Func, TextField, Value
from django.db.models.functions import Cast, Concat, Substr


class UUIDText(Func):
    """A UUID column as its canonical text, e.g. ``01a23a9b-4b4e-7002-8635-01e35d5fd7cd``: what
    ``str(uuid)`` gives, read as a string instead of a UUID object."""

    arity = 1
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        # Without a uuid type (SQLite), Django stores the 32 hex digits without hyphens.
        column = self.source_expressions[0]
        parts = []
        for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12)):
            if parts:
                parts.append(Value("-"))
            parts.append(Substr(column, start, length))
        return compiler.compile(Concat(*parts, output_field=TextField()))

    def as_postgresql(self, compiler, connection, **extra_context):
        return compiler.compile(Cast(self.source_expressions[0], TextField()))
