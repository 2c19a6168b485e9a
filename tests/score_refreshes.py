"""Score rows written by hand name a refresh, as the refresh's own rows do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.scores.models import ScoreRefresh


def refresh_id(
    session: Session, *, as_of: datetime, version: str = "test", currency: str = "USD"
) -> int:
    """The id of the refresh named ``version``, added (as of and fitted at ``as_of``) if
    there is none yet."""
    found = session.scalar(select(ScoreRefresh.id).where(ScoreRefresh.model_version == version))
    if found is not None:
        return found
    refresh = ScoreRefresh(as_of=as_of, currency=currency, model_version=version, fitted_at=as_of)
    session.add(refresh)
    session.flush()
    return refresh.id
