"""The churn model of a refresh: trained on the past, applied to the present.

Churn is either a configured event type (``churn_event_type``, e.g. ``cancellation``) or,
without one, no order within ``churn_inactivity_days``. The model is trained on features
as of the cutoff (``as_of`` minus that horizon) with labels taken from the events after it,
then applied to the same features as of ``as_of``. Features only ever read events on or
before the moment they describe (:mod:`tenure.scores.features`), so the model never sees
the future it is asked to predict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd

from tenure.analytics import ChurnModel
from tenure.scores.features import (
    ENGAGEMENT_WINDOW_DAYS,
    ORDER,
    Aggregates,
    event_counts,
    rfm_as_of,
)

#: Customers the classifier is trained on at most (a seeded random sample above it). Five
#: cross-validated candidates plus calibration cost ~1 s per 1,000 rows on one core;
#: the AUC measured on the demo data did not move beyond a few thousand rows.
MAX_TRAINING_ROWS = 8_000
#: Fewer churners or stayers than this and the model is skipped (AUC and calibration
#: need both classes in every fold).
MIN_CLASS_ROWS = 10
TOP_REASONS = 3
SEED = 20260101

RFM_FEATURES = {
    "recency_days": "days since last order",
    "frequency": "repeat purchase days",
    "age_days": "days since first order",
    "monetary": "mean repeat order value",
    "revenue": "revenue to date",
}


@dataclass
class ChurnOutcome:
    """Probabilities and reasons per customer, or why there are none."""

    probability: pd.Series
    reasons: pd.Series
    report: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    n_training: int = 0


def features_at(
    aggregates: Aggregates,
    moment: str,
    *,
    churn_event_type: str | None,
    attributes: pd.DataFrame,
) -> pd.DataFrame:
    """Features of every customer with an order by the moment (``"cut"`` or ``"asof"``).

    RFM at that moment, the count of non-order events (engagement) and of each common
    event type in the 90 days up to it, and the declared number/choice attributes.
    """
    day = aggregates.moments.cutoff_day if moment == "cut" else aggregates.moments.as_of_day
    rfm = rfm_as_of(aggregates.orders, moment, day)
    frame = pd.DataFrame(
        {
            "recency_days": rfm["recency_days"].astype(float),
            "frequency": rfm["frequency"].astype(float),
            "age_days": rfm["T"].astype(float),
            "monetary": rfm["monetary"] / 100.0,
            "revenue": rfm["revenue"] / 100.0,
        },
        index=rfm.index,
    )
    column = "n_win_cut" if moment == "cut" else "n_win_asof"
    exclude = {ORDER} | ({churn_event_type} if churn_event_type else set())
    others = aggregates.others
    engaged = others[~others["type"].isin(exclude)].groupby("person_id")[column].sum()
    frame[f"engagement_{ENGAGEMENT_WINDOW_DAYS}d"] = engaged.reindex(frame.index, fill_value=0)
    counts = event_counts(others, column, exclude)
    frame = frame.join(counts, how="left")
    frame[list(counts.columns)] = frame[list(counts.columns)].fillna(0.0)
    if not attributes.empty:
        frame = frame.join(attributes, how="left")
    return frame


def labels_at_cutoff(
    aggregates: Aggregates, population: pd.Index, *, churn_event_type: str | None
) -> tuple[pd.Index, pd.Series]:
    """The training population and whether each churned after the cutoff.

    Without a churn event type: churned = no order day in (cutoff, as_of]. With one:
    churned = such an event in (cutoff, as_of]; customers who had one on or before the
    cutoff are not in the population.
    """
    orders = aggregates.orders.loc[population]
    if not churn_event_type:
        churned = (orders["n_days"] - orders["n_days_cut"]) <= 0
        return population, churned.astype(bool)
    events = aggregates.others[aggregates.others["type"] == churn_event_type]
    events = events.set_index("person_id")
    before = events.index[events["n_upto_cut"] > 0]
    keep = population.difference(before)
    after = events.index[events["n_after_cut"] > 0]
    return keep, pd.Series(keep.isin(after), index=keep)


def already_churned(aggregates: Aggregates, churn_event_type: str | None) -> pd.Index:
    """Customers whose last churn event comes after their last order day (event churn)."""
    if not churn_event_type:
        return pd.Index([], name="person_id")
    events = aggregates.others[aggregates.others["type"] == churn_event_type]
    last_event = events.set_index("person_id")["last_day"]
    last_order = aggregates.orders["last_day"].reindex(last_event.index)
    return last_event.index[(last_event >= last_order.fillna(-1)).to_numpy()]


def fit_and_predict(
    aggregates: Aggregates, *, churn_event_type: str | None, attributes: pd.DataFrame
) -> ChurnOutcome:
    """Train on the cutoff, predict as of ``as_of``; skip with a reason on thin data."""
    empty = pd.Series(dtype=float)
    training = features_at(
        aggregates, "cut", churn_event_type=churn_event_type, attributes=attributes
    )
    population, churned = labels_at_cutoff(
        aggregates, training.index, churn_event_type=churn_event_type
    )
    training = training.loc[population]
    n_churned = int(churned.sum())
    minority = min(n_churned, len(churned) - n_churned)
    if minority < MIN_CLASS_ROWS:
        reason = (
            f"{len(churned)} customers before the cutoff, {n_churned} of them churned: "
            f"need at least {MIN_CLASS_ROWS} churners and {MIN_CLASS_ROWS} stayers"
        )
        return ChurnOutcome(empty, empty, skipped=reason, n_training=len(churned))
    if len(training) > MAX_TRAINING_ROWS:
        rng = np.random.default_rng(SEED)
        pick = np.sort(rng.choice(len(training), MAX_TRAINING_ROWS, replace=False))
        training, churned = training.iloc[pick], churned.iloc[pick]
    model = ChurnModel().fit(training, churned.to_numpy())

    current = features_at(
        aggregates, "asof", churn_event_type=churn_event_type, attributes=attributes
    )
    # Event-type columns the model learned but nobody shows now are zero counts.
    current = current.reindex(columns=training.columns).fillna(
        {c: 0.0 for c in training.columns if c.startswith(("events_", "engagement_"))}
    )
    done = already_churned(aggregates, churn_event_type)
    scored = current.drop(index=done.intersection(current.index))
    probability = model.predict_proba(scored)
    reasons = reasons_json(model.explain(scored, top=TOP_REASONS), TOP_REASONS)
    churned_now = done.intersection(current.index)
    if len(churned_now):
        probability = pd.concat([probability, pd.Series(1.0, index=churned_now)])
        marker = orjson.dumps([{"feature": "churned", "value": churn_event_type}]).decode()
        reasons = pd.concat([reasons, pd.Series(marker, index=churned_now)])
    report = dict(model.report)
    table = report.pop("calibration_table")
    report["calibration_table"] = [
        {"bin": str(label), **{k: json_ready(v) for k, v in row.items()}}
        for label, row in table.iterrows()
    ]
    report["features"] = list(training.columns)
    report["definition"] = (
        f"event {churn_event_type!r} within the horizon"
        if churn_event_type
        else "no order within the horizon"
    )
    return ChurnOutcome(probability, reasons, report=json_ready(report), n_training=len(churned))


def _label(feature: str) -> str:
    if feature in RFM_FEATURES:
        return RFM_FEATURES[feature]
    if feature.startswith("events_"):
        kind = feature.removeprefix("events_").rsplit("_", 1)[0].replace("_", " ")
        return f"{kind} events in the last {ENGAGEMENT_WINDOW_DAYS} days"
    if feature.startswith("engagement_"):
        return f"non-order events in the last {ENGAGEMENT_WINDOW_DAYS} days"
    return feature.removeprefix("attr_")


def reasons_json(explained: pd.DataFrame, top: int) -> pd.Series:
    """Each person's reasons as a JSON array of ``{feature, value, contribution}``.

    Built with vectorised string operations: a Python dict per reason took 5.5 us, which
    is 16 s for a million customers; this takes well under a second. Labels and the
    direction (the sign of the contribution) are added when the scores are read.
    """
    n = len(explained) // top
    persons = explained["row"].to_numpy()[::top]
    parts = []
    for rank in range(top):
        rows = explained.iloc[rank::top]
        feature = rows["feature"].map(lambda f: orjson.dumps(f).decode())
        value = rows["value"].map(_json_value)
        contribution = np.round(rows["contribution"].to_numpy(dtype=float), 4).astype(str)
        parts.append(
            '{"feature":'
            + feature.to_numpy(dtype=object)
            + ',"value":'
            + value.to_numpy(dtype=object)
            + ',"contribution":'
            + contribution.astype(object)
            + "}"
        )
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "," + part
    return pd.Series("[" + joined + "]", index=pd.Index(persons[:n], name="person_id"))


def _json_value(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return repr(round(float(value), 4)) if np.isfinite(value) else "null"
    return orjson.dumps(json_ready(value)).decode()


def reason_label(feature: str) -> str:
    """Words for a churn feature name, e.g. ``recency_days`` -> "days since last order"."""
    return _label(feature)


def json_ready(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN to None, containers recursively."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
