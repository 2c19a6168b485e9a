"""``refresh_scores``: recompute every customer's scores and the models' reports.

Steps: one aggregate query (:mod:`tenure.scores.features`), BG/NBD for purchases and
Gamma-Gamma for spend (P(alive), expected purchases in 90 days, 12-month discounted CLV),
RFM scores and segments, the backtest, the churn model (trained in a thread beside the
backtest and the value models); then the rows of ``person_scores`` whose values changed
are replaced and the reports appended, in one transaction. The churn model predicts and
explains as the rows are written (``scores.writes``), so its timing is the fit's, and
"Writing scores" includes the predictions. Nothing
is written when a step fails. The result names the people whose scores changed
(``changed_person_ids``): the hook point for what follows a refresh.
Stages are re-placed by the next job of the nightly chain (``tenure.all_tasks``), not
from here: scores know nothing of lifecycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tenure.analytics import BetaGeo, GammaGamma, clv
from tenure.config import Settings
from tenure.db.session import make_session_factory, unit_of_work
from tenure.db.snapshot import reading_connection
from tenure.db.statistics import analyze_after_load
from tenure.db.types import utcnow
from tenure.scores import churn
from tenure.scores.backtest import DAYS_PER_WEEK, run_backtest
from tenure.scores.features import (
    MAX_FIT_CUSTOMERS,
    REFUND,
    Aggregates,
    Moments,
    aggregate_events,
    custom_attributes,
    rfm_as_of,
    sample_rows,
)
from tenure.scores.models import ModelReport, ScoreRefresh
from tenure.scores.segments import rfm_segments
from tenure.scores.writes import write_scores
from tenure.workspace import clock
from tenure.workspace.settings import currency as workspace_currency

#: Bumped when the way scores are computed changes; part of every ``model_version``.
ALGORITHM_VERSION = "1"
MIN_FIT_CUSTOMERS = 10
EXPECTED_PURCHASES_DAYS = 90
CLV_HORIZON_MONTHS = 12

#: Steps a refresh reports to its progress callback, in order.
STEPS = (
    "Aggregating events in the database",
    "Backtesting the purchase model",
    "Fitting BG/NBD and Gamma-Gamma",
    "Scoring RFM segments",
    "Training the churn model",
    "Writing scores",
)

Progress = Callable[[str], None]
T = TypeVar("T")


@dataclass
class RefreshResult:
    """What a refresh did: customers scored, versions, reports and step timings (s).

    ``changed_person_ids``: the people whose score row was added, changed or removed
    (sorted); the others' rows were left as they were.
    """

    as_of: datetime
    version: str
    customers: int
    changed_person_ids: list[int] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def refresh_scores(
    *,
    settings: Settings,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    as_of: datetime | None = None,
    progress: Progress | None = None,
) -> RefreshResult:
    """Recompute all customer scores and model reports as of ``as_of``.

    Parameters
    ----------
    settings : Settings
        ``clv_annual_discount_rate``, ``clv_margin``, ``churn_inactivity_days``,
        ``churn_event_type`` and ``default_currency`` (the currency amounts are in).
    engine, session_factory
        Where to read and write; give one (a factory wins).
    as_of : datetime, optional
        Timezone-aware scoring time; events after it are ignored. Defaults to
        :func:`tenure.workspace.clock.now`.
    progress : callable, optional
        Called with the name of each step as it starts (the CLI draws a progress bar).

    Returns
    -------
    RefreshResult
    """
    if session_factory is None:
        if engine is None:
            raise ValueError("give an engine or a session_factory")
        session_factory = make_session_factory(engine)
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    step = _Steps(progress)

    # The churn model, the longest computation, is trained in a thread beside the
    # backtest and the value models (steps 1-3), which wait on the database or in numpy
    # and scipy much of the time: measured at 1M customers (the model then predicting
    # too), 2.8 s for all four against 4.0 s one after the other; it predicts while the
    # scores are written now (scores.writes). It gets its own copy of the aggregates
    # (:func:`_own_copy`): pandas does not promise that two threads may read one frame.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="churn-model") as pool:
        # One read snapshot: the aggregates and the backtest's block query see the same data.
        with unit_of_work(session_factory) as session:
            connection = reading_connection(session)
            with step(STEPS[0]):
                as_of = (as_of or clock.now(session)).astimezone(UTC)
                moments = Moments.build(as_of, horizon_days=settings.churn_inactivity_days)
                aggregates = aggregate_events(
                    connection, moments, churn_event_type=settings.churn_event_type
                )
                attributes = custom_attributes(connection)
            training = pool.submit(
                _timed,
                churn.fit,
                Aggregates(_own_copy(aggregates.orders), _own_copy(aggregates.others), moments),
                churn_event_type=settings.churn_event_type,
                attributes=attributes,
                training_rows=settings.churn_training_rows,
            )
            with step(STEPS[1]):
                backtest_report = run_backtest(connection, aggregates)

        fitted_at = utcnow()
        # To the microsecond: two refreshes within a second (a test, a rerun) are two
        # versions.
        version = f"{ALGORITHM_VERSION}.{fitted_at:%Y%m%dT%H%M%S.%fZ}"
        summary = rfm_as_of(aggregates.orders, "asof", moments.as_of_day)
        scores = pd.DataFrame(index=summary.index)
        reports: list[dict[str, Any]] = []

        with step(STEPS[2]):
            fitted = _fit_value_models(summary, settings, backtest_report)
            reports.extend(fitted.pop("reports"))
            scores = scores.join(pd.DataFrame(fitted, index=summary.index))

        with step(STEPS[3]):
            scores = scores.join(rfm_segments(summary))

        with step(STEPS[4]):
            outcome, seconds = training.result()
            reports.append(_churn_report(outcome))
    # The step's own time, not the wait: it ran beside the three before it.
    step.timings[STEPS[4]] = seconds

    with step(STEPS[5]), unit_of_work(session_factory) as session:
        refresh = ScoreRefresh(
            as_of=as_of,
            currency=workspace_currency(session, settings),
            model_version=version,
            fitted_at=fitted_at,
            churned_reason=outcome.churned_reason,
        )
        session.add(refresh)
        session.flush()
        changed = write_scores(
            session.connection(),
            summary=summary,
            scores=scores,
            churn=outcome.scores,
            refunds=_refunds(aggregates),
            meta={"as_of": as_of, "margin": settings.clv_margin, "refresh_id": refresh.id},
        )
        for report in reports:
            # JSON has no NaN: a singular Hessian's standard errors become null.
            clean = {k: churn.json_ready(v) for k, v in report.items()}
            session.add(ModelReport(version=version, as_of=as_of, fitted_at=fitted_at, **clean))
    if len(changed) > len(summary) // 10:
        # Many score rows were replaced: the lifecycle statement next plans on them.
        analyze_after_load(session_factory, ("person_scores", "model_reports"))
    return RefreshResult(
        as_of=as_of,
        version=version,
        customers=len(summary),
        changed_person_ids=changed,
        reports={r["model"]: r["status"] for r in reports},
        timings=step.timings,
    )


def _own_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that shares nothing with it, its index included.

    ``DataFrame.copy`` gives the copy a view of the index, which shares the index's
    cache, and with it the hash table a lookup builds on first use: two threads looking
    up labels at once, one of them building it, failed with a KeyError for labels that
    were there."""
    copied = frame.copy()
    copied.index = frame.index.copy(deep=True)
    return copied


def _timed(function: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """``function``'s result and how long it took (s), for a step run in a thread."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, round(time.perf_counter() - started, 3)


def _refunds(aggregates: Aggregates) -> pd.Series:
    others = aggregates.others
    rows = others[others["type"] == REFUND]
    return rows.groupby("person_id")["amount"].sum()


def _weeks(summary: pd.DataFrame) -> pd.DataFrame:
    weeks = pd.DataFrame(
        {
            "frequency": summary["frequency"],
            "recency": summary["recency"] / DAYS_PER_WEEK,
            "T": summary["T"] / DAYS_PER_WEEK,
            "monetary": summary["monetary"],
        },
        index=summary.index,
    )
    weeks.attrs["unit"] = "W"
    return weeks


def _fit_value_models(
    summary: pd.DataFrame, settings: Settings, backtest_report: dict[str, Any]
) -> dict[str, Any]:
    """P(alive), expected purchases and CLV per customer, with the two model reports."""
    n = len(summary)
    nothing = np.full(n, np.nan)
    out: dict[str, Any] = {"p_alive": nothing, "expected_purchases_90d": nothing}
    out["clv_12m_minor"] = nothing
    weeks = _weeks(summary)
    repeaters = int((weeks["frequency"] > 0).sum())
    if n < MIN_FIT_CUSTOMERS or repeaters == 0:
        too_few = f"{n} customers, {repeaters} with a repeat purchase: too few to fit"
        out["reports"] = [_skipped("bgnbd", too_few, n), _skipped("gamma_gamma", too_few, n)]
        return out
    bg = BetaGeo().fit(sample_rows(weeks))
    out["p_alive"] = bg.p_alive(weeks).to_numpy()
    horizon = EXPECTED_PURCHASES_DAYS / DAYS_PER_WEEK
    out["expected_purchases_90d"] = bg.expected_purchases(horizon, weeks).to_numpy()
    reports = [
        {
            "model": "bgnbd",
            "status": "fitted",
            "n_customers": min(n, MAX_FIT_CUSTOMERS),
            "params": {**bg.params, "time_unit": "week"},
            "log_likelihood": bg.log_likelihood,
            "standard_errors": bg.standard_errors,
            "metrics": {"converged": bg.converged, "backtest": backtest_report},
        }
    ]
    spenders = weeks[(weeks["frequency"] > 0) & (weeks["monetary"] > 0)]
    gg = GammaGamma()
    reason: str | None = None
    try:
        gg.fit(sample_rows(spenders))
        if gg.params["q"] <= 1:
            reason = f"q = {gg.params['q']:.3f} <= 1: the mean spend is unbounded"
    except ValueError as error:
        reason = str(error)
    if reason:
        reports.append(_skipped("gamma_gamma", reason, len(spenders)))
    else:
        value = clv(
            bg,
            gg,
            weeks,
            horizon_months=CLV_HORIZON_MONTHS,
            annual_discount_rate=settings.clv_annual_discount_rate,
            margin=settings.clv_margin,
        )
        out["clv_12m_minor"] = np.round(value.to_numpy())
        reports.append(
            {
                "model": "gamma_gamma",
                "status": "fitted",
                "n_customers": min(len(spenders), MAX_FIT_CUSTOMERS),
                "params": {**gg.params, "money_unit": "minor"},
                "log_likelihood": gg.log_likelihood,
                "standard_errors": gg.standard_errors,
                "metrics": {
                    "converged": gg.converged,
                    "population_mean_spend_minor": gg.population_mean_spend(),
                    "clv_horizon_months": CLV_HORIZON_MONTHS,
                    "annual_discount_rate": settings.clv_annual_discount_rate,
                    "margin": settings.clv_margin,
                },
            }
        )
    out["reports"] = reports
    return out


def _skipped(model: str, reason: str, n: int) -> dict[str, Any]:
    return {
        "model": model,
        "status": "skipped",
        "reason": reason,
        "n_customers": n,
        "params": {},
        "standard_errors": {},
        "metrics": {},
    }


def _churn_report(outcome: churn.ChurnOutcome) -> dict[str, Any]:
    if outcome.skipped:
        return _skipped("churn", outcome.skipped, outcome.n_training)
    return {
        "model": "churn",
        "status": "fitted",
        "n_customers": outcome.n_training,
        "params": {
            "chosen": outcome.report.get("chosen"),
            "calibration": outcome.report.get("calibration"),
            "logistic_c": outcome.report.get("logistic_c"),
        },
        "standard_errors": {},
        "metrics": outcome.report,
    }


class _Steps:
    """Times each step and reports its start to the progress callback."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    def __call__(self, name: str) -> _Step:
        return _Step(self, name)


class _Step:
    def __init__(self, steps: _Steps, name: str) -> None:
        self.steps, self.name = steps, name

    def __enter__(self) -> None:
        if self.steps.progress:
            self.steps.progress(self.name)
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.steps.timings[self.name] = round(time.perf_counter() - self.start, 3)
