"""A query run on every request of a busy page, worked out to SQL once per process.

Django compiles a queryset to SQL each time it runs: for a read joining four or five
tables that costs more than PostgreSQL takes to answer it. ``CompiledQuery`` compiles
one queryset shape once, with stand-in values, and afterwards sends the same SQL with
each run's values, making the model instance from the row as the queryset itself
would (its select_related objects and annotations included).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

# Stand-in values no row has: a shape is run compiled only if its SQL's parameters are
# exactly these, in order.
STAND_INS = (-7_919_101, -7_919_102, -7_919_103)


class CompiledQuery:
    """``build(*values)`` makes the queryset of ``model``; ``first(*values)`` runs it.

    For a plain model queryset (no ``values()``, prefetching or row locks) whose values
    all end up as the SQL's parameters. A shape that is not is run through the ORM
    every time, so it stays correct, only not faster; a locked read does too, so that
    the ORM refuses it outside a transaction, as it always does.
    """

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], arity: int = 1):
        self.model = model
        self.build = build
        self.arity = arity
        self._compiled: dict[str, tuple | None] = {}

    def first(self, *values) -> Model | None:
        db = router.db_for_read(self.model)
        if db not in self._compiled:
            self._compiled[db] = self._compile(db)
        compiled = self._compiled[db]
        if compiled is None:
            return next(iter(self.build(*values).using(db)[:1]), None)
        compiler, sql, init_list, start, end, populators, converters = compiled
        with connections[db].cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchmany(1)
        if converters:
            rows = compiler.apply_converters(rows, converters)
        for row in rows:
            found = self.model.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, found)
            for name, position in compiler.annotation_col_map.items():
                setattr(found, name, row[position])
            return found
        return None

    def _compile(self, db: str) -> tuple | None:
        try:
            queryset = self.build(*STAND_INS[: self.arity]).using(db)[:1]
        except (TypeError, ValueError):
            # A value the queryset uses other than as a parameter (a slice's bounds).
            return None
        if (
            queryset.model is not self.model
            or queryset._iterable_class is not ModelIterable
            or queryset._prefetch_related_lookups
            or queryset._known_related_objects
            or queryset.query.select_for_update
        ):
            return None
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        if tuple(params) != STAND_INS[: self.arity] or compiler.klass_info is None:
            return None
        fields = compiler.klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in compiler.select[start:end]]
        populators = get_related_populators(compiler.klass_info, compiler.select, db)
        # What each column's value goes through (as ``results_iter`` works it out on
        # every run), worked out once.
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        return compiler, sql, init_list, start, end, populators, converters
