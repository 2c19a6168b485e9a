"""Writes of retention, one transaction each (the caller commits): refresh, mining, settings.

``refresh_retention`` reads the signals as of a time, replaces ``risk_scores``, stores
P(alive) once per score version, and opens, keeps or closes the alert episodes (creating
the owners' tasks). ``record_nba_rules`` mines the next-best-action rules and replaces the
stored ones. Both are idempotent for a given as-of: running a refresh twice changes
nothing the second time (no second task, the same risk rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import BigInteger, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from tenure.db.bulk import insert_rows
from tenure.db.types import utcnow
from tenure.errors import InvalidInput
from tenure.identity.audit import audit_changed, record_audit
from tenure.identity.models import Role, User
from tenure.identity.permissions import READ_ONLY_ROLES, SETTINGS_EDITORS, Actor, authorize
from tenure.retention import nba, signals
from tenure.retention.alerts import AlertOutcome, update_alerts
from tenure.retention.models import (
    NbaRule,
    NbaRun,
    PAliveHistory,
    RetentionRefresh,
    RetentionSettingsRow,
    RiskScore,
)
from tenure.retention.risk import Assessment, assess
from tenure.retention.schemas import RetentionConfig, RetentionConfigPatch
from tenure.scores.models import ModelReport, PersonScore, ScoreRefresh
from tenure.scores.queries import latest_refresh
from tenure.workspace import clock

SETTINGS_ROW_ID = 1
#: Score versions whose P(alive) is kept; older snapshots are pruned at each refresh.
P_ALIVE_VERSIONS_KEPT = 12
RISK_COLUMNS = (
    "person_id",
    "as_of",
    "risk",
    "value_minor",
    "value_at_risk_minor",
    "currency",
    "reasons",
    "signals",
    "computed_at",
)


def load_config(session: Session) -> RetentionConfig:
    """The stored settings over the defaults (no row yet: all defaults)."""
    row = session.get(RetentionSettingsRow, SETTINGS_ROW_ID)
    return RetentionConfig.model_validate(row.values if row else {})


def update_settings(
    *, session: Session, patch: RetentionConfigPatch, actor: Actor | None
) -> RetentionConfig:
    """Change some settings (``SETTINGS_EDITORS``); the whole result is validated, the change
    audited and committed."""
    actor_id = authorize(actor, SETTINGS_EDITORS)
    before = load_config(session)
    changes = patch.changes()
    try:
        after = RetentionConfig.model_validate({**before.model_dump(), **changes})
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field_name = ".".join(str(p) for p in first["loc"]) or next(iter(changes), "settings")
        raise InvalidInput(field_name, str(first["msg"]).removeprefix("Value error, "))
    if after.fallback_owner_id is not None:
        fallback = session.get(User, after.fallback_owner_id)
        if fallback is None:
            raise InvalidInput("fallback_owner_id", f"no user {after.fallback_owner_id}")
        if Role(fallback.role) in READ_ONLY_ROLES:
            raise InvalidInput(
                "fallback_owner_id", f"{fallback.email} is read-only and cannot be given tasks"
            )
    row = session.get(RetentionSettingsRow, SETTINGS_ROW_ID)
    if row is None:
        row = RetentionSettingsRow(id=SETTINGS_ROW_ID)
        session.add(row)
    row.values = after.model_dump()
    row.updated_at, row.updated_by_id = utcnow(), actor_id
    session.flush()
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="retention_settings",
        entity_id=SETTINGS_ROW_ID,
        before=before.model_dump(),
        after=after.model_dump(),
    )
    session.commit()
    return after


@dataclass
class RefreshResult:
    as_of: datetime
    customers_with_signals: int
    above_threshold: int
    alerts: AlertOutcome
    signal_counts: dict[str, int] = field(default_factory=dict)
    refresh_id: int = 0


def _bgnbd_prior(session: Session) -> tuple[float, float] | None:
    """(r, alpha) of the newest fitted BG/NBD, in weeks, or None."""
    params = session.scalar(
        select(ModelReport.params)
        .where(ModelReport.model == "bgnbd", ModelReport.status == "fitted")
        .order_by(ModelReport.id.desc())
        .limit(1)
    )
    if not params or params.get("time_unit", "week") != "week":
        return None
    return float(params["r"]), float(params["alpha"])


def _p_alive_drops(
    session: Session, version: str | None, min_drop: float
) -> tuple[list[tuple[int, float, float]], datetime | None]:
    """Customers whose P(alive) fell since the newest snapshot of another score version."""
    if version is None:
        return [], None
    previous = session.execute(
        select(RetentionRefresh.id, RetentionRefresh.scores_as_of)
        .where(
            RetentionRefresh.p_alive_snapshot.is_(True),
            RetentionRefresh.scores_version != version,
        )
        .order_by(RetentionRefresh.id.desc())
        .limit(1)
    ).first()
    if previous is None:
        return [], None
    rows = session.execute(
        select(PersonScore.person_id, PAliveHistory.p_alive, PersonScore.p_alive)
        .join(PAliveHistory, PAliveHistory.person_id == PersonScore.person_id)
        .where(
            PAliveHistory.refresh_id == previous.id,
            PersonScore.p_alive.isnot(None),
            PAliveHistory.p_alive - PersonScore.p_alive >= min_drop,
        )
    ).all()
    return [(int(p), float(a), float(b or 0.0)) for p, a, b in rows], previous.scores_as_of


def _snapshot_p_alive(session: Session, refresh: RetentionRefresh) -> None:
    """Store this score version's P(alive) (one INSERT ... SELECT) unless already stored."""
    stored = session.scalar(
        select(func.count())
        .select_from(RetentionRefresh)
        .where(
            RetentionRefresh.p_alive_snapshot.is_(True),
            RetentionRefresh.scores_version == refresh.scores_version,
        )
    )
    if stored:
        return
    columns = ["refresh_id", "person_id", "p_alive"]
    source = select(
        literal(refresh.id, BigInteger()), PersonScore.person_id, PersonScore.p_alive
    ).where(PersonScore.p_alive.isnot(None))
    session.execute(insert(PAliveHistory).from_select(columns, source))
    refresh.p_alive_snapshot = True
    kept = select(RetentionRefresh.id).where(RetentionRefresh.p_alive_snapshot.is_(True))
    kept = kept.order_by(RetentionRefresh.id.desc()).limit(P_ALIVE_VERSIONS_KEPT)
    session.execute(
        delete(PAliveHistory).where(PAliveHistory.refresh_id.not_in(kept.scalar_subquery()))
    )


def collect_signals(
    session: Session, *, as_of: datetime, config: RetentionConfig, scores_version: str | None
) -> tuple[signals.SignalMap, datetime | None]:
    connection = session.connection()
    drops, since = _p_alive_drops(session, scores_version, config.p_alive_drop)
    found = signals.merge(
        signals.engagement_signals(connection, as_of, config),
        signals.incident_signals(connection, as_of, config),
        signals.overdue_signals(connection, as_of, config, _bgnbd_prior(session)),
        signals.p_alive_drop_signals(drops, since, config),
    )
    return found, since


def _values(
    session: Session, scores: ScoreRefresh | None
) -> tuple[dict[int, int | None], str | None]:
    """Each scored customer's 12-month CLV, and the currency of ``scores`` (the newest
    refresh) when there are any."""
    rows = session.execute(select(PersonScore.person_id, PersonScore.clv_12m_minor)).all()
    currency = scores.currency if scores is not None and rows else None
    return {int(p): (int(v) if v is not None else None) for p, v in rows}, currency


def _write_risks(
    session: Session, assessments: list[Assessment], as_of: datetime, now: datetime
) -> None:
    session.execute(delete(RiskScore))
    rows = [
        (
            a.person_id,
            as_of,
            a.risk,
            a.value_minor,
            a.value_at_risk_minor,
            a.currency,
            a.reasons,
            a.signals,
            now,
        )
        for a in assessments
    ]
    insert_rows(session.connection(), RiskScore.__table__, RISK_COLUMNS, rows)


def refresh_retention(
    *, session: Session, as_of: datetime | None = None, now: datetime | None = None
) -> RefreshResult:
    """Recompute every customer's signals and risk as of ``as_of``; update alerts and tasks.

    ``as_of`` defaults to now (the workspace clock: a demo's fixed day); ``now`` (for the
    alerts' and tasks' timestamps) defaults to the workspace clock's now as well.
    """
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInput("as_of", "needs a timezone")
    as_of = (as_of or clock.now(session)).astimezone(UTC)
    now = now or clock.now(session)
    config = load_config(session)
    scores = latest_refresh(session)
    version, scores_as_of = (scores.model_version, scores.as_of) if scores else (None, None)
    found, _ = collect_signals(session, as_of=as_of, config=config, scores_version=version)
    values, currency = _values(session, scores)
    assessments = assess(found, config.weights, values, currency)
    _write_risks(session, assessments, as_of, now)
    outcome = update_alerts(
        session=session, assessments=assessments, config=config, as_of=as_of, now=now
    )
    above = sum(1 for a in assessments if a.risk >= config.risk_threshold)
    refresh = RetentionRefresh(
        as_of=as_of,
        computed_at=now,
        scores_version=version,
        scores_as_of=scores_as_of,
        customers_with_signals=len(assessments),
        above_threshold=above,
        alerts_opened=outcome.opened,
        alerts_closed=outcome.closed,
        tasks_created=outcome.tasks,
        settings=config.model_dump(),
    )
    session.add(refresh)
    session.flush()
    # One audit entry per refresh, like an event batch; each task has its own entry.
    record_audit(
        session=session,
        actor_id=None,
        action="refresh",
        entity_type="retention_refresh",
        entity_id=refresh.id,
        changes={
            name: {"before": None, "after": value}
            for name, value in (
                ("alerts_opened", outcome.opened),
                ("alerts_closed", outcome.closed),
                ("tasks_created", outcome.tasks),
            )
        },
    )
    if version is not None:
        _snapshot_p_alive(session, refresh)
    counts: dict[str, int] = {}
    for found_signals in found.values():
        for s in found_signals:
            counts[s.kind] = counts.get(s.kind, 0) + 1
    return RefreshResult(as_of, len(assessments), above, outcome, counts, refresh.id)


def record_nba_rules(
    *,
    session: Session,
    as_of: datetime | None = None,
    window_days: int = nba.DEFAULT_WINDOW_DAYS,
    min_support: int = nba.DEFAULT_MIN_SUPPORT,
    levels: tuple[nba.Level, ...] = ("category", "sku"),
    actor_id: int | None = None,
) -> NbaRun:
    """Mine the rules of each level as of ``as_of`` and replace the stored ones."""
    if window_days < 1:
        raise InvalidInput("window_days", "must be at least 1")
    if min_support < 1:
        raise InvalidInput("min_support", "must be at least 1")
    as_of = (as_of or clock.now(session)).astimezone(UTC)
    connection = session.connection()
    mined: dict[str, Any] = {}
    popularity: dict[str, Any] = {}
    buyers = 0
    for level in levels:
        rules, level_buyers = nba.mine(
            connection, as_of=as_of, window_days=window_days, min_support=min_support, level=level
        )
        mined[level] = rules
        popularity[level] = nba.item_buyers(connection, as_of=as_of, level=level)
        buyers = max(buyers, level_buyers)
    session.execute(delete(NbaRun))  # rules cascade; only the newest run is kept
    run = NbaRun(
        as_of=as_of,
        mined_at=utcnow(),
        window_days=window_days,
        min_support=min_support,
        buyers=buyers,
        rules=sum(len(r) for r in mined.values()),
        popularity=popularity,
        created_by_id=actor_id,
    )
    session.add(run)
    session.flush()
    columns = ("run_id", "level", *nba.RULE_COLUMNS)
    rows = [
        (run.id, level, *(row[c] for c in nba.RULE_COLUMNS))
        for level, rules in mined.items()
        for row in rules.to_dict("records")
    ]
    insert_rows(connection, NbaRule.__table__, columns, [_plain(r) for r in rows])
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="nba_run",
        entity_id=run.id,
        changes={"rules": {"before": None, "after": run.rules}},
    )
    return run


def _plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """numpy scalars as Python numbers (drivers take only the latter)."""
    return tuple(v.item() if hasattr(v, "item") else v for v in row)
