"""Querysets that Django builds and compiles once, then runs again and again with other values.

For the lists served many times a second (the readings of a source): building a queryset with its access
rule and compiling it to SQL took longer than running the query. A Statement builds the queryset of one
*shape* once, with `Param` placeholders where the values of a request go, keeps Django's SQL and the
columns' converters, and then each run only binds values and reads rows, through Django's own cursor (so
query counts, logging and the database wrappers see it as any other query).

    def timestamps(param, count):
        source = param("source", IntegerField())
        return Reading.objects.filter(data_source_id=source).values_list("timestamp")[:count]

    TIMESTAMPS = Statement(timestamps)
    rows = TIMESTAMPS.run(101, source=7)  # the shape here: how many rows

A shape is anything hashable that decides the SQL (which filters, the order, the page size); the values
decide nothing but the parameters. The compiled shapes of each database are kept, up to `MAX_SHAPES`.
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression

MAX_SHAPES = 128


class Param(Expression):
    """A value left open in a compiled Statement, given by name when it runs."""

    def __init__(self, name, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        # The placeholder itself stands in the parameters, where Statement.run puts the value.
        return "%s", [self]


class RequestingUser:
    """The user of a compiled statement, with its id left open: what the `visible_to(user)` methods read of
    a user (they go by its id)."""

    is_authenticated = True

    def __init__(self, pk):
        self.pk = pk


class Statement:
    def __init__(self, build):
        """`build(param, shape)` returns the values() or values_list() queryset of `shape`, using
        `param(name, output_field)` for each value given at run time."""
        self.build = build
        self._compiled = functools.lru_cache(maxsize=MAX_SHAPES)(self._compile)

    def _compile(self, using, shape):
        params = {}

        def param(name, output_field):
            return params.setdefault(name, Param(name, output_field))

        queryset = self.build(param, shape)
        compiler = queryset.query.get_compiler(using=using)
        sql, sql_params = compiler.as_sql()
        # After as_sql(): the compiler has set up its select list.
        converters = compiler.get_converters([expression for expression, _, _ in compiler.select])
        return sql, tuple(sql_params), converters

    def run(self, shape, using=DEFAULT_DB_ALIAS, **values):
        """The rows of `shape` with `values` for its Params, as tuples in the queryset's column order."""
        sql, sql_params, converters = self._compiled(using, shape)
        connection = connections[using]
        params = [
            p.output_field.get_db_prep_value(values[p.name], connection) if isinstance(p, Param) else p
            for p in sql_params
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        return [self._convert(row, converters, connection) for row in rows]

    @staticmethod
    def _convert(row, converters, connection):
        row = list(row)
        for position, (functions, expression) in converters.items():
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        return tuple(row)
