"""When an API token was last used, recorded at most every ``USE_RESOLUTION``.

Recording is a write on a request that may only read, so it is best effort and never
waits: on SQLite the busy timeout is 0 for that one statement, on PostgreSQL a short lock
timeout. A busy database skips the update (the next request after it records the use).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.identity.models import ApiToken

USE_RESOLUTION = timedelta(minutes=15)


def use_is_due(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= USE_RESOLUTION


def record_token_use(session: Session, token_id: int) -> None:
    """Set the token's ``last_used_at`` to now and commit, unless the database is busy.

    Call it with no transaction open (after ``end_read``): it commits its own."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection
    previous = None
    try:
        if sqlite:
            previous = raw.execute("PRAGMA busy_timeout").fetchone()[0]  # type: ignore[union-attr]
            raw.execute("PRAGMA busy_timeout = 0")  # type: ignore[union-attr]
        else:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
        connection.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
        )
    except OperationalError:
        session.rollback()
        return
    finally:
        if previous is not None:
            raw.execute(f"PRAGMA busy_timeout = {int(previous)}")  # type: ignore[union-attr]
    try:
        session.commit()
    except OperationalError:
        session.rollback()
