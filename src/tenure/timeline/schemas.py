"""Pydantic types of the event API."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tenure.config import Settings
from tenure.timeline.models import MONEY_EVENT_TYPES
from tenure.validation import (
    LINE_MAX_CHARS,
    MAX_BIGINT,
    TEXT_MAX_CHARS,
    Currency,
    LineText,
    MinorAmount,
    StrictRowId,
    fits_bigint,
)

MAX_LINE_ITEMS = 1_000
MAX_PAYLOAD_DEPTH = 32
# Bytes an item adds to an event besides its sku and category: the JSON keys and numbers.
_ITEM_OVERHEAD_BYTES = 80


@dataclass(frozen=True)
class EventLimits:
    """What one event may be; passed as the validation context (defaults: the settings')."""

    max_event_bytes: int = 64 * 1024
    earliest: date = date(1900, 1, 1)
    future_days: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> EventLimits:
        return cls(
            max_event_bytes=settings.max_event_bytes,
            earliest=settings.event_earliest,
            future_days=settings.event_future_days,
        )

    def context(self) -> dict[str, Any]:
        """The validation context of one batch: the time bounds are computed once."""
        return {
            "limits": self,
            "earliest": datetime.combine(self.earliest, datetime.min.time(), tzinfo=UTC),
            "latest": datetime.now(UTC) + timedelta(days=self.future_days),
        }


def _context(info: ValidationInfo) -> dict[str, Any]:
    context = info.context
    if isinstance(context, dict) and isinstance(context.get("limits"), EventLimits):
        return context
    return EventLimits().context()


def _limits(info: ValidationInfo) -> EventLimits:
    limits: EventLimits = _context(info)["limits"]
    return limits


def rule_error(field: str, reason: str) -> PydanticCustomError:
    """An error of a rule over several fields, reported under the field it is about."""
    return PydanticCustomError("event_rule", "{reason}", {"reason": reason, "field": field})


def check_json_value(value: Any, path: str, depth: int = 0) -> None:
    """Refuse what JSON columns cannot hold or should not: ints beyond 64 bits (a 500 on
    both databases before), non-finite floats, strings over TEXT_MAX_CHARS, deep nesting."""
    if isinstance(value, str):
        if len(value) > TEXT_MAX_CHARS:
            raise ValueError(f"{path} is longer than {TEXT_MAX_CHARS} characters")
        if "\x00" in value:
            # PostgreSQL's jsonb refuses \u0000; SQLite would keep it: refuse on both.
            raise ValueError(f"{path} contains a NUL (\\u0000) character")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not fits_bigint(value):
            raise ValueError(f"{path} is an integer beyond 64 bits (at most {MAX_BIGINT})")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path} is not a finite number")
    elif isinstance(value, dict | list):
        if depth >= MAX_PAYLOAD_DEPTH:
            raise ValueError(f"{path} nests deeper than {MAX_PAYLOAD_DEPTH} levels")
        if isinstance(value, list):
            for index, item in enumerate(value):
                check_json_value(item, f"{path}[{index}]", depth + 1)
            return
        for key, item in value.items():
            if len(key) > LINE_MAX_CHARS or "\x00" in key:
                raise ValueError(
                    f"{path} has a key longer than {LINE_MAX_CHARS} characters or with a NUL"
                )
            check_json_value(item, f"{path}.{key}", depth + 1)


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Annotated[str, StringConstraints(max_length=100)] | None = None
    category: Annotated[str, StringConstraints(max_length=100)] | None = None
    quantity: Annotated[int, Strict(), Field(ge=1, le=1_000_000)] = 1
    unit_price_minor: Annotated[int, Strict(), Field(ge=0, le=MAX_BIGINT)] = Field(
        description="Unit price in minor units (cents)."
    )


class EventIn(BaseModel):
    """One event. Money is integer minor units (cents) plus an ISO 4217 currency.

    ``occurred_at`` must lie between ``TENURE_EVENT_EARLIEST`` and now plus
    ``TENURE_EVENT_FUTURE_DAYS``; the payload and line items together at most
    ``TENURE_MAX_EVENT_BYTES`` as JSON. An order or refund with both ``amount_minor`` and
    ``items`` must add up: ``amount_minor`` equals the sum of quantity x unit price.
    """

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]{0,49}$")] = Field(
        description="order, refund, visit, email_opened, call, ticket_opened, ... (free list)"
    )
    occurred_at: AwareDatetime
    source: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "api"
    client_event_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Your id for the event: repeats with the same source are ignored."
    )
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,30}$")] | None = None
    person_id: StrictRowId | None = None
    email: LineText | None = Field(
        None, description="Identify the person by email instead; unknown emails create a person."
    )
    amount_minor: MinorAmount | None = None
    currency: Currency | None = None
    # default_factory: a literal {} default is deep-copied per instance (measured 20%
    # of batch validation time).
    items: list[LineItem] = Field(default_factory=list, max_length=MAX_LINE_ITEMS)
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _in_range(cls, value: datetime, info: ValidationInfo) -> datetime:
        context = _context(info)
        limits: EventLimits = context["limits"]
        if value < context["earliest"]:
            raise ValueError(f"is before {limits.earliest.isoformat()}, the earliest event date")
        if value > context["latest"]:
            raise ValueError(f"is more than {limits.future_days} day(s) in the future")
        return value

    @field_validator("amount_minor")
    @classmethod
    def _not_negative(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value < 0 and info.data.get("type") in MONEY_EVENT_TYPES:
            raise ValueError("must not be negative (a refund is its own type)")
        return value

    @field_validator("payload")
    @classmethod
    def _storable(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if not value:
            return value
        try:
            dumped = orjson.dumps(value)
        except TypeError:  # an int beyond 64 bits, nesting past orjson's 255 levels
            dumped = b""
        # One C call for the common payload; the Python walk (one call per value) only
        # when something may be wrong: orjson failed, writes NaN and infinity as null,
        # escapes NUL, or the payload could hold a string over the limit.
        if not dumped or len(dumped) > TEXT_MAX_CHARS or b"null" in dumped or b"\\u0000" in dumped:
            check_json_value(value, "payload")
        limits = _limits(info)
        size = len(dumped) + _items_size(info.data.get("items") or [])
        if size > limits.max_event_bytes:
            raise ValueError(_too_big(size, limits))
        return value

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> EventIn:
        if (self.person_id is None) == (self.email is None):
            raise rule_error("person_id", "give exactly one of person_id or email")
        if self.type in MONEY_EVENT_TYPES:
            total = sum(i.quantity * i.unit_price_minor for i in self.items)
            if self.amount_minor is None and self.items:
                self.amount_minor = total
            if self.amount_minor is None:
                raise rule_error("amount_minor", f"{self.type} events need amount_minor (or items)")
            if self.items and self.amount_minor != total:
                raise rule_error(
                    "amount_minor",
                    f"is {self.amount_minor} but the items add up to {total} "
                    "(quantity x unit_price_minor)",
                )
            if not fits_bigint(self.amount_minor):
                raise rule_error("items", "add up to more than a 64-bit amount")
            if self.currency is None:
                raise rule_error("currency", f"{self.type} events need a currency")
        self._check_text()
        if self.items and not self.payload:  # with a payload, its validator counted both
            limits = _limits(info)
            size = _items_size(self.items)
            if size > limits.max_event_bytes:
                raise rule_error("items", _too_big(size, limits))
        return self

    def _check_text(self) -> None:
        """No NUL characters: PostgreSQL refuses them in text, SQLite would keep them.

        Checked here, once per event, rather than by a validator per field (``email`` is a
        ``LineText``, which checks its own): a batch holds up to 10,000 events.
        """
        for name in ("source", "client_event_id"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                raise rule_error(name, "must not contain a NUL (\\u0000) character")
        for index, item in enumerate(self.items):
            for name in ("sku", "category"):
                value = getattr(item, name)
                if value is not None and "\x00" in value:
                    raise rule_error(
                        f"items.{index}.{name}", "must not contain a NUL (\\u0000) character"
                    )


def _items_size(items: list[LineItem]) -> int:
    return sum(
        _ITEM_OVERHEAD_BYTES + len(item.sku or "") + len(item.category or "") for item in items
    )


def _too_big(size: int, limits: EventLimits) -> str:
    return (
        f"the event is {size:,} bytes of payload and items, over the limit of "
        f"{limits.max_event_bytes:,} bytes"
    )


class EventOut(BaseModel):
    id: int
    person_id: int | None = Field(description="Null for an event logged on an organization.")
    organization_id: int | None = Field(
        None, description="The organization an activity or note was logged on, if any."
    )
    type: str
    occurred_at: datetime
    channel: str | None
    source: str
    client_event_id: str | None
    amount_minor: int | None
    currency: str | None
    items: list[LineItem]
    payload: dict[str, Any]


class ItemProblem(BaseModel):
    field: str
    reason: str


class RejectedEvent(BaseModel):
    index: int
    client_event_id: str | None
    errors: list[ItemProblem]


class DuplicateEvent(BaseModel):
    index: int
    client_event_id: str
    event_id: int | None = Field(description="The stored event it repeats (null: same batch).")


class IngestResult(BaseModel):
    """What happened to every item: stored, duplicate or rejected, never silently dropped."""

    received: int
    stored: int
    duplicates: list[DuplicateEvent]
    rejected: list[RejectedEvent]
    stored_ids: list[int] = Field(description="Ids of the stored events, in batch order.")
    person_ids: list[int] = Field(
        default_factory=list, description="The people the stored events belong to, sorted."
    )
    # The types of the stored events, for the event pipeline's reactions (not serialized).
    _types: frozenset[str] = PrivateAttr(default_factory=frozenset)


class Money(BaseModel):
    currency: str | None
    amount_minor: int


class OrderSummary(BaseModel):
    order_count: int
    revenue: list[Money] = Field(description="Orders minus refunds, per currency.")
    first_order_at: datetime | None
    last_order_at: datetime | None


class OpenTask(BaseModel):
    id: int
    title: str
    due_at: datetime | None
    assignee_id: int | None


class RecentNote(BaseModel):
    id: int
    body: str
    author_id: int | None
    created_at: datetime


class TimelinePage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None
