"""Per-customer order totals (``order_totals``), kept by the database on every write.

The nightly refresh needs, per customer, the purchase days, first and last order day,
revenue, the first day's total and refunds. Aggregating them means reading every order (10M at 1M
customers) each night; these triggers keep them current as orders are written instead,
so the refresh reads one row per customer (``scores.features``).

Triggers rather than a reaction of the append path: orders also move between people
(merges and their undo), disappear with a deleted person (a cascade) and are loaded in
bulk by tests and benchmarks; a trigger sees every one of those writes, in the writer's
own statement and transaction, so the totals can never drift from the events.

* SQLite (one writer at a time): an inserted order updates its person's row in place
  (one upsert, one seek to tell whether the day is new), a refund adds its amount; an
  order or refund moved, changed or deleted recomputes its people's rows. Days are cut
  from the stored text before ``date()``, as ``db.dialect.Days`` does: ``date()`` of a
  full timestamp rounds 23:59:59.9995 up to the next day.
* PostgreSQL: statement-level triggers with transition tables recompute the rows of the
  people a statement touched, once per statement (a COPY of a million orders is one
  recompute). Concurrent writers for one person serialize on the person's row: it is
  created if missing and locked before the recompute, which then runs on a fresh
  snapshot (READ COMMITTED) that sees the other writer's committed orders.

A bulk load that drops the event indexes must drop these triggers too (each would then
scan the table): :func:`drop_triggers` before it, :func:`restore` once the indexes are
back.
"""

from __future__ import annotations

from sqlalchemy import Connection

TABLE = "order_totals"
COLUMNS = (
    "person_id, order_count, order_days, first_order_day, last_order_day, revenue_minor, "
    "first_day_revenue_minor, refund_minor"
)
MONEY_TYPES = "('order', 'refund')"


def _sqlite_day(text: str) -> str:
    """Days since 1970-01-01 of a stored timestamp or day text (julianday of a bare
    date is exact: x.5)."""
    return f"CAST(julianday(substr({text}, 1, 10)) - 2440587.5 AS INTEGER)"


_SQLITE_TOTALS = f"""
SELECT a.person_id, a.n, a.days, {_sqlite_day("a.first_at")}, {_sqlite_day("a.last_at")},
  a.revenue,
  (SELECT sum(f.amount_minor) FROM events AS f
   WHERE f.person_id = a.person_id AND f.type = 'order'
     AND f.occurred_at < date(substr(a.first_at, 1, 10), '+1 day')),
  a.refunds
FROM (
  SELECT person_id,
    count(*) FILTER (WHERE type = 'order') AS n,
    count(DISTINCT substr(occurred_at, 1, 10)) FILTER (WHERE type = 'order') AS days,
    min(occurred_at) FILTER (WHERE type = 'order') AS first_at,
    max(occurred_at) FILTER (WHERE type = 'order') AS last_at,
    sum(amount_minor) FILTER (WHERE type = 'order') AS revenue,
    sum(amount_minor) FILTER (WHERE type = 'refund') AS refunds
  FROM events WHERE {{where}} AND type IN {MONEY_TYPES} GROUP BY person_id
) AS a"""

_SQLITE_RECOMPUTE = f"""
  DELETE FROM {TABLE} WHERE person_id IN ({{ids}});
  INSERT INTO {TABLE} ({COLUMNS}) {_SQLITE_TOTALS.format(where="person_id IN ({ids})")};"""

_NEW_DAY = _sqlite_day("NEW.occurred_at")

SQLITE_TRIGGERS = {
    "order_totals_insert": f"""
CREATE TRIGGER order_totals_insert AFTER INSERT ON events
WHEN NEW.type = 'order' AND NEW.person_id IS NOT NULL
BEGIN
  INSERT INTO {TABLE} ({COLUMNS})
  VALUES (NEW.person_id, 1, 1, {_NEW_DAY}, {_NEW_DAY}, NEW.amount_minor, NEW.amount_minor,
          NULL)
  ON CONFLICT (person_id) DO UPDATE SET
    order_count = order_count + 1,
    order_days = order_days + NOT EXISTS (
      SELECT 1 FROM events AS e
      WHERE e.person_id = NEW.person_id AND e.type = 'order' AND e.id <> NEW.id
        AND e.occurred_at >= substr(NEW.occurred_at, 1, 10)
        AND e.occurred_at < date(substr(NEW.occurred_at, 1, 10), '+1 day')),
    first_day_revenue_minor = CASE
      WHEN first_order_day IS NULL OR {_NEW_DAY} < first_order_day THEN NEW.amount_minor
      WHEN {_NEW_DAY} = first_order_day
        THEN coalesce(first_day_revenue_minor + NEW.amount_minor, first_day_revenue_minor,
                      NEW.amount_minor)
      ELSE first_day_revenue_minor END,
    first_order_day = min(coalesce(first_order_day, {_NEW_DAY}), {_NEW_DAY}),
    last_order_day = max(coalesce(last_order_day, {_NEW_DAY}), {_NEW_DAY}),
    revenue_minor = coalesce(revenue_minor + NEW.amount_minor, revenue_minor,
                             NEW.amount_minor);
END""",
    "order_totals_refund": f"""
CREATE TRIGGER order_totals_refund AFTER INSERT ON events
WHEN NEW.type = 'refund' AND NEW.person_id IS NOT NULL
BEGIN
  INSERT INTO {TABLE} (person_id, refund_minor) VALUES (NEW.person_id, NEW.amount_minor)
  ON CONFLICT (person_id) DO UPDATE SET
    refund_minor = coalesce(refund_minor + NEW.amount_minor, refund_minor, NEW.amount_minor);
END""",
    "order_totals_update": f"""
CREATE TRIGGER order_totals_update
AFTER UPDATE OF person_id, type, occurred_at, amount_minor ON events
WHEN OLD.type IN {MONEY_TYPES} OR NEW.type IN {MONEY_TYPES}
BEGIN{_SQLITE_RECOMPUTE.format(ids="OLD.person_id, NEW.person_id")}
END""",
    "order_totals_delete": f"""
CREATE TRIGGER order_totals_delete AFTER DELETE ON events
WHEN OLD.type IN {MONEY_TYPES}
BEGIN{_SQLITE_RECOMPUTE.format(ids="OLD.person_id")}
END""",
}

_POSTGRES_TOTALS = f"""
SELECT a.person_id, a.n, a.days, a.first_day - DATE '1970-01-01',
  a.last_day - DATE '1970-01-01', a.revenue,
  (SELECT sum(f.amount_minor) FROM events AS f
   WHERE f.person_id = a.person_id AND f.type = 'order'
     AND f.occurred_at < (a.first_day + 1)::timestamp AT TIME ZONE 'UTC'),
  a.refunds
FROM (
  SELECT person_id,
    count(*) FILTER (WHERE type = 'order') AS n,
    count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) FILTER (WHERE type = 'order')
      AS days,
    min((occurred_at AT TIME ZONE 'UTC')::date) FILTER (WHERE type = 'order') AS first_day,
    max((occurred_at AT TIME ZONE 'UTC')::date) FILTER (WHERE type = 'order') AS last_day,
    sum(amount_minor) FILTER (WHERE type = 'order') AS revenue,
    sum(amount_minor) FILTER (WHERE type = 'refund') AS refunds
  FROM events WHERE {{where}} AND type IN {MONEY_TYPES} GROUP BY person_id
) AS a"""

_POSTGRES_FUNCTIONS = {
    "order_totals_recompute": f"""
CREATE FUNCTION order_totals_recompute(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  -- A row to lock for each person (waits for a writer that created it uncommitted),
  -- then the lock (waits for one that holds it); the recompute's snapshot is taken
  -- after both, so it sees every committed order of these people.
  INSERT INTO {TABLE} (person_id) SELECT i FROM unnest(ids) AS i ORDER BY i
    ON CONFLICT (person_id) DO NOTHING;
  PERFORM 1 FROM {TABLE} WHERE person_id = ANY (ids) ORDER BY person_id FOR UPDATE;
  DELETE FROM {TABLE} WHERE person_id = ANY (ids);
  INSERT INTO {TABLE} ({COLUMNS}) {_POSTGRES_TOTALS.format(where="person_id = ANY (ids)")};
END $$""",
    "order_totals_inserted": f"""
CREATE FUNCTION order_totals_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM order_totals_recompute(ARRAY(
    SELECT DISTINCT person_id FROM new_rows
    WHERE type IN {MONEY_TYPES} AND person_id IS NOT NULL));
  RETURN NULL;
END $$""",
    "order_totals_updated": f"""
CREATE FUNCTION order_totals_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM order_totals_recompute(ARRAY(
    SELECT person_id FROM old_rows WHERE type IN {MONEY_TYPES} AND person_id IS NOT NULL
    UNION
    SELECT person_id FROM new_rows WHERE type IN {MONEY_TYPES} AND person_id IS NOT NULL));
  RETURN NULL;
END $$""",
    "order_totals_deleted": f"""
CREATE FUNCTION order_totals_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM order_totals_recompute(ARRAY(
    SELECT DISTINCT person_id FROM old_rows
    WHERE type IN {MONEY_TYPES} AND person_id IS NOT NULL));
  RETURN NULL;
END $$""",
}

POSTGRES_TRIGGERS = {
    "order_totals_insert": "CREATE TRIGGER order_totals_insert AFTER INSERT ON events "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION order_totals_inserted()",
    "order_totals_update": "CREATE TRIGGER order_totals_update AFTER UPDATE ON events "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION order_totals_updated()",
    "order_totals_delete": "CREATE TRIGGER order_totals_delete AFTER DELETE ON events "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION order_totals_deleted()",
}


def _triggers(connection: Connection) -> dict[str, str]:
    return POSTGRES_TRIGGERS if connection.dialect.name == "postgresql" else SQLITE_TRIGGERS


def install(connection: Connection) -> None:
    """Create the triggers (and on PostgreSQL their functions); the table must exist."""
    if connection.dialect.name == "postgresql":
        for function in _POSTGRES_FUNCTIONS.values():
            connection.exec_driver_sql(function)
    install_triggers(connection)


def drop_triggers(connection: Connection) -> None:
    """Drop the triggers only (before a bulk load; :func:`restore` after it)."""
    on = " ON events" if connection.dialect.name == "postgresql" else ""
    for name in _triggers(connection):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{on}")


def install_triggers(connection: Connection) -> None:
    """The triggers again after :func:`drop_triggers` (PostgreSQL's functions stay)."""
    for statement in _triggers(connection).values():
        connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    """Drop the triggers and PostgreSQL's functions (the migration's downgrade)."""
    drop_triggers(connection)
    if connection.dialect.name == "postgresql":
        for name in _POSTGRES_FUNCTIONS:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name} CASCADE")


def rebuild(connection: Connection) -> int:
    """Recompute every customer's row from the events in one pass; returns how many.

    For data written while the triggers were off (a bulk load) and for the migration
    that creates the table over an existing event log.
    """
    postgres = connection.dialect.name == "postgresql"
    totals = (_POSTGRES_TOTALS if postgres else _SQLITE_TOTALS).format(
        where="person_id IS NOT NULL"
    )
    connection.exec_driver_sql(f"DELETE FROM {TABLE}")
    result = connection.exec_driver_sql(f"INSERT INTO {TABLE} ({COLUMNS}) {totals}")
    return int(result.rowcount or 0)


def restore(connection: Connection) -> int:
    """After a bulk load (the event indexes back in place): the triggers on again and
    every row rebuilt in one pass; returns how many rows."""
    install_triggers(connection)
    return rebuild(connection)
