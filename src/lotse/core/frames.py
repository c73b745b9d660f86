"""Database rows into polars frames, for the set-based readers (measure-career scan,
analytics): the query's SQL on a plain cursor, rows fetched in batches — no model
instances, no per-row converters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
from django.db import connections
from django.db.models import QuerySet

LOAD_BATCH_SIZE = 100_000


def conform(
    df: pl.DataFrame, schema: Mapping[str, pl.DataType], text: Iterable[str] = ()
) -> pl.DataFrame:
    """The schema's columns in their types (dates may arrive as ISO text or datetimes,
    depending on the database); null text in the ``text`` columns as ""."""
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    exprs = []
    for name, dtype in schema.items():
        col = pl.col(name)
        current = df.schema[name]
        if dtype == pl.Date() and current == pl.String():
            col = col.str.slice(0, 10).str.to_date("%Y-%m-%d")
        elif dtype == pl.Date() and isinstance(current, pl.Datetime):
            col = col.dt.date()
        elif current != dtype:
            col = col.cast(dtype)
        if name in text:
            col = col.fill_null("")
        exprs.append(col.alias(name))
    return df.select(exprs)


def read_frame(
    qs: QuerySet[Any, Any], schema: Mapping[str, pl.DataType], using: str = "default"
) -> pl.DataFrame:
    """The rows of ``qs`` (a ``values_list`` in the schema's column order) as a frame."""
    sql, params = qs.query.get_compiler(using=using).as_sql()
    names = list(schema)
    chunks: list[pl.DataFrame] = []
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(LOAD_BATCH_SIZE):
            chunks.append(
                pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None).pipe(
                    conform, schema
                )
            )
    if not chunks:
        return pl.DataFrame(schema=dict(schema))
    return pl.concat(chunks, rechunk=True)
