"""Writing a refresh's scores in bulk: the table is emptied and refilled in one transaction.

Per-row ORM inserts would take minutes for a million customers. On SQLite the rows go to
the driver's ``executemany`` with values already in storage form (reasons come as
JSON text from :func:`tenure.scores.churn.reasons_json`) (``insert_rows`` would
convert each of the 21 values of each row again); on PostgreSQL they are streamed with
``COPY ... FROM STDIN`` in CSV, which pandas writes in C.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete

from tenure.scores.models import PersonScore

COLUMNS = (
    "person_id",
    "as_of",
    "currency",
    "purchase_days",
    "frequency",
    "recency_days",
    "age_days",
    "monetary_minor",
    "revenue_minor",
    "historical_clv_minor",
    "p_alive",
    "expected_purchases_90d",
    "clv_12m_minor",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "churn_probability",
    "churn_reasons",
    "model_version",
    "fitted_at",
)
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's own SQLite storage format


def score_frame(
    *,
    summary: pd.DataFrame,
    scores: pd.DataFrame,
    churn_probability: pd.Series,
    churn_reasons: pd.Series,
    refunds: pd.Series,
    meta: dict[str, Any],
) -> pd.DataFrame:
    """One row per customer in :data:`COLUMNS` order (timestamps and JSON left to the writer)."""
    index = summary.index
    net = summary["revenue"] - refunds.reindex(index, fill_value=0).to_numpy()
    frame = pd.DataFrame(
        {
            "person_id": index.to_numpy(dtype=np.int64),
            "as_of": meta["as_of"],
            "currency": meta["currency"],
            "purchase_days": summary["purchase_days"].to_numpy(dtype=np.int64),
            "frequency": summary["frequency"].to_numpy(dtype=np.int64),
            "recency_days": summary["recency_days"].to_numpy(dtype=np.int64),
            "age_days": summary["T"].to_numpy(dtype=np.int64),
            "monetary_minor": np.round(summary["monetary"].to_numpy()).astype(np.int64),
            "revenue_minor": summary["revenue"].to_numpy(dtype=np.int64),
            "historical_clv_minor": np.round(net.to_numpy() * meta["margin"]).astype(np.int64),
            "p_alive": scores["p_alive"].to_numpy(dtype=float),
            "expected_purchases_90d": scores["expected_purchases_90d"].to_numpy(dtype=float),
            "clv_12m_minor": pd.array(scores["clv_12m_minor"].to_numpy(), dtype="Int64"),
            "r_score": scores["r_score"].to_numpy(dtype=np.int64),
            "f_score": scores["f_score"].to_numpy(dtype=np.int64),
            "m_score": scores["m_score"].to_numpy(dtype=np.int64),
            "rfm_segment": scores["rfm_segment"].to_numpy(dtype=object),
            "churn_probability": churn_probability.reindex(index).to_numpy(dtype=float),
            "churn_reasons": churn_reasons.reindex(index).to_numpy(dtype=object),
            "model_version": meta["model_version"],
            "fitted_at": meta["fitted_at"],
        }
    )
    return frame


def write_scores(connection: Connection, **parts: Any) -> int:
    """Replace ``person_scores`` with the scores of this refresh; returns rows written."""
    frame = score_frame(**parts)
    connection.execute(delete(PersonScore))
    if frame.empty:
        return 0
    if connection.dialect.name == "sqlite":
        _insert_sqlite(connection, frame)
    else:
        _copy_postgres(connection, frame)
    return len(frame)


def _column_values(series: pd.Series) -> list[Any]:
    """Python values with missing numbers as None (SQL NULL)."""
    if isinstance(series.dtype, pd.Int64Dtype):
        return [None if v is pd.NA else int(v) for v in series.tolist()]
    values = series.tolist()
    if series.dtype.kind == "f":
        return [None if v != v else v for v in values]  # NaN is the only value != itself
    return values


def _insert_sqlite(connection: Connection, frame: pd.DataFrame) -> None:
    columns: list[list[Any]] = []
    for name in COLUMNS:
        if name in ("as_of", "fitted_at"):
            stamp: datetime = frame[name].iloc[0]
            columns.append([stamp.astimezone(UTC).strftime(_SQLITE_DATETIME)] * len(frame))
        elif name == "churn_reasons":
            columns.append([v if isinstance(v, str) else None for v in frame[name].tolist()])
        else:
            columns.append(_column_values(frame[name]))
    placeholders = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO person_scores ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _copy_postgres(connection: Connection, frame: pd.DataFrame) -> None:
    frame = frame.copy()
    for name in ("as_of", "fitted_at"):
        frame[name] = frame[name].iloc[0].astimezone(UTC).isoformat()
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    raw = connection.connection.driver_connection
    assert raw is not None
    sql = f"COPY person_scores ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(buffer.getvalue())
