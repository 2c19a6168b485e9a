"""Parquet for exports: schemas, one row group per batch, bytes handed out as written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

PEOPLE_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("job_title", pa.string()),
        ("organization_id", pa.int64()),
        ("organization", pa.string()),
        ("owner_email", pa.string()),
        ("emails", pa.list_(pa.string())),
        ("phones", pa.list_(pa.string())),
        ("external_ids", pa.list_(pa.string())),
        ("social", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("consents", pa.map_(pa.string(), pa.string())),
        ("attributes", pa.string()),  # JSON: attribute types differ from key to key
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


def people_table(people: list[dict[str, Any]]) -> pa.Table:
    def values(p: dict[str, Any], kind: str) -> list[str]:
        return [
            f"{i['namespace']}:{i['value']}" if i["namespace"] else i["value"]
            for i in p["identities"]
            if i["kind"] == kind
        ]

    columns = {
        "id": [p["id"] for p in people],
        "first_name": [p["first_name"] for p in people],
        "last_name": [p["last_name"] for p in people],
        "job_title": [p["job_title"] for p in people],
        "organization_id": [p["organization_id"] for p in people],
        "organization": [p["organization"] for p in people],
        "owner_email": [p["owner_email"] for p in people],
        "emails": [values(p, "email") for p in people],
        "phones": [values(p, "phone") for p in people],
        "external_ids": [values(p, "external") for p in people],
        "social": [values(p, "social") for p in people],
        "tags": [p["tags"] for p in people],
        "consents": [sorted(p["consents"].items()) for p in people],
        "attributes": [orjson.dumps(p["attributes"]).decode() for p in people],
        "created_at": [p["created_at"] for p in people],
        "updated_at": [p["updated_at"] for p in people],
    }
    return pa.table(columns, schema=PEOPLE_SCHEMA)


class _Sink:
    """A write-only file for pyarrow whose bytes are taken out after each row group."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        """Nothing buffered here."""

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def parquet_stream(tables: Iterator[pa.Table], schema: pa.Schema) -> Iterator[bytes]:
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    for table in tables:
        writer.write_table(table)
        if data := sink.take():
            yield data
    writer.close()
    yield sink.take()
