"""The churn model of a refresh: trained on the past, applied to the present.

Churn is either a configured event type (``churn_event_type``, e.g. ``cancellation``) or,
without one, no order within ``churn_inactivity_days``. The model is trained on features
as of the cutoff (``as_of`` minus that horizon) with labels taken from the events after it,
then applied to the same features as of ``as_of``. Features only ever read events on or
before the moment they describe (:mod:`tenure.scores.features`), so the model never sees
the future it is asked to predict.

Only customers can churn: the model learns from the customers who were active at the
cutoff (no churn event yet; by inactivity, an order within the horizon before it) and
predicts for those active now. Customers who have already churned by the workspace's
definition get probability 1 and no reasons of their own: the one reason they share
("already churned", and by what definition: ``ChurnOutcome.churned_reason``) is kept
once per refresh. This also keeps the classifier's cost (each customer explained
feature by feature) on the customers it is meant for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import orjson
import pandas as pd
from numpy.typing import NDArray

from tenure.analytics import ChurnModel
from tenure.scores.features import (
    ENGAGEMENT_WINDOW_DAYS,
    ORDER,
    Aggregates,
    event_counts,
    rfm_as_of,
)

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


class ChurnScores(Protocol):
    """Churn probabilities and reasons, for the customers asked about."""

    def at(self, person_ids: NDArray[np.int64]) -> pd.DataFrame:
        """``churn_probability`` (NaN: none) and ``churn_reasons`` (JSON text from
        :func:`reasons_json`, or None) of ``person_ids``, in their order."""
        ...


@dataclass(frozen=True)
class KnownChurn:
    """Probabilities and reasons already computed (none at all: a skipped model)."""

    probability: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    reasons: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))

    def at(self, person_ids: NDArray[np.int64]) -> pd.DataFrame:
        index = pd.Index(person_ids, name="person_id")
        return pd.DataFrame(
            {
                "churn_probability": self.probability.reindex(index).to_numpy(dtype=float),
                "churn_reasons": self.reasons.reindex(index).to_numpy(dtype=object),
            },
            index=index,
        )


@dataclass(frozen=True)
class PredictedChurn:
    """The fitted model's probabilities and reasons, predicted and explained when asked:
    a block of customers at a time while the scores are written (on PostgreSQL, while
    the server stores the blocks before). Customers churned already get probability 1
    and no reasons of their own (:attr:`ChurnOutcome.churned_reason`)."""

    model: ChurnModel
    #: Features as of ``as_of`` of every customer, by person id.
    current: pd.DataFrame
    churned: pd.Index

    def at(self, person_ids: NDArray[np.int64]) -> pd.DataFrame:
        index = pd.Index(person_ids, name="person_id")
        probability = np.full(len(index), np.nan)
        reasons = np.full(len(index), None, dtype=object)
        probability[index.isin(self.churned)] = 1.0
        found = self.current.index.get_indexer(index)
        wanted = np.flatnonzero((found >= 0) & np.isnan(probability))
        if len(wanted):
            scored = self.current.iloc[found[wanted]]
            predicted, explained = self.model.predict_and_explain(scored, top=TOP_REASONS)
            probability[wanted] = predicted.to_numpy()
            # One text per scored customer, in the order they were scored.
            reasons[wanted] = reasons_json(explained, TOP_REASONS).to_numpy()
        return pd.DataFrame(
            {"churn_probability": probability, "churn_reasons": reasons}, index=index
        )


@dataclass
class ChurnOutcome:
    """The churn scores (:class:`ChurnScores`) and the model's report, or why there are
    none."""

    scores: ChurnScores
    #: Why the customers with probability 1 and no reasons have churned already
    #: (``no order in 180 days``, or the churn event type).
    churned_reason: str | None = None
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
    aggregates: Aggregates, features: pd.DataFrame, *, churn_event_type: str | None
) -> tuple[pd.Index, pd.Series]:
    """The training population (active at the cutoff) and who churned after it.

    Without a churn event type: customers with an order in the horizon before the
    cutoff; churned = no order day in (cutoff, as_of]. With one: customers without such
    an event on or before the cutoff; churned = one in (cutoff, as_of].
    """
    horizon = aggregates.moments.horizon_days
    if not churn_event_type:
        active = features.index[(features["recency_days"] <= horizon).to_numpy()]
        orders = aggregates.orders.loc[active]
        churned = (orders["n_days"] - orders["n_days_cut"]) <= 0
        return active, churned.astype(bool)
    population = features.index
    events = aggregates.others[aggregates.others["type"] == churn_event_type]
    events = events.set_index("person_id")
    before = events.index[events["n_upto_cut"] > 0]
    keep = population.difference(before)
    after = events.index[events["n_after_cut"] > 0]
    return keep, pd.Series(keep.isin(after), index=keep)


def already_churned(
    aggregates: Aggregates, current: pd.DataFrame, churn_event_type: str | None
) -> pd.Index:
    """Customers churned as of ``as_of``: no order within the horizon, or (event churn)
    a churn event on or after their last order day."""
    if not churn_event_type:
        lapsed = current["recency_days"] > aggregates.moments.horizon_days
        return current.index[lapsed.to_numpy()]
    events = aggregates.others[aggregates.others["type"] == churn_event_type]
    last_event = events.set_index("person_id")["last_day"]
    last_event = last_event[last_event.index.isin(current.index)]  # customers only
    last_order = aggregates.orders["last_day"].reindex(last_event.index)
    return last_event.index[(last_event >= last_order.fillna(-1)).to_numpy()]


def training_sample(churned: pd.Series, size: int, seed: int = SEED) -> NDArray[np.int64]:
    """Positions of at most ``size`` rows, stratified by outcome (each class keeps its
    share, rounded) and seeded (repeatable), in their original order."""
    n = len(churned)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    labels = churned.to_numpy().astype(bool)
    churners = np.flatnonzero(labels)
    stayers = n - len(churners)
    # Each class its share, but never fewer than MIN_CLASS_ROWS of either where it has them.
    low = max(min(MIN_CLASS_ROWS, len(churners)), size - stayers)
    high = min(len(churners), size - min(MIN_CLASS_ROWS, stayers))
    n_churners = int(np.clip(round(size * len(churners) / n), low, high))
    picked = [
        rng.choice(churners, n_churners, replace=False),
        rng.choice(np.flatnonzero(~labels), size - n_churners, replace=False),
    ]
    return np.sort(np.concatenate(picked))


def fit(
    aggregates: Aggregates,
    *,
    churn_event_type: str | None,
    attributes: pd.DataFrame,
    training_rows: int = 4_000,
) -> ChurnOutcome:
    """Train on the cutoff, to predict as of ``as_of``; skip with a reason on thin data.

    The classifier is selected, cross-validated and calibrated on at most
    ``training_rows`` of the customers active at the cutoff (:func:`training_sample`;
    setting ``churn_training_rows``); its scores (:class:`PredictedChurn`) predict and
    explain for every customer active now when asked. The fit's cost (5 folds, four
    ``C`` values, boosted trees) grows with the sample, not the workspace; but a larger
    sample also grows more boosted trees, which every active customer's reasons
    evaluate. ``docs/scores.md`` shows both costs.
    """
    training = features_at(
        aggregates, "cut", churn_event_type=churn_event_type, attributes=attributes
    )
    population, churned = labels_at_cutoff(aggregates, training, churn_event_type=churn_event_type)
    training = training.loc[population]
    n_churned = int(churned.sum())
    minority = min(n_churned, len(churned) - n_churned)
    if minority < MIN_CLASS_ROWS:
        reason = (
            f"{len(churned)} active customers at the cutoff, {n_churned} of them churned: "
            f"need at least {MIN_CLASS_ROWS} churners and {MIN_CLASS_ROWS} stayers"
        )
        return ChurnOutcome(KnownChurn(), skipped=reason, n_training=len(churned))
    pick = training_sample(churned, training_rows)
    training, churned = training.iloc[pick], churned.iloc[pick]
    model = ChurnModel().fit(training, churned.to_numpy())

    current = features_at(
        aggregates, "asof", churn_event_type=churn_event_type, attributes=attributes
    )
    # Event-type columns the model learned but nobody shows now are zero counts.
    current = current.reindex(columns=training.columns)
    for column in training.columns:
        if column.startswith(("events_", "engagement_")):
            # reindex adds missing columns as object NaN; make them numbers before filling.
            current[column] = pd.to_numeric(current[column]).fillna(0.0)
    churned_now = already_churned(aggregates, current, churn_event_type)
    why = churn_event_type or f"no order in {aggregates.moments.horizon_days} days"
    report = dict(model.report)
    table = report.pop("calibration_table")
    report["calibration_table"] = [
        {"bin": str(label), **{k: json_ready(v) for k, v in row.items()}}
        for label, row in table.iterrows()
    ]
    report["features"] = list(training.columns)
    report["training_population"] = len(population)
    report["definition"] = (
        f"event {churn_event_type!r} within the horizon"
        if churn_event_type
        else "no order within the horizon"
    )
    return ChurnOutcome(
        PredictedChurn(model, current, churned_now),
        churned_reason=why,
        report=json_ready(report),
        n_training=len(churned),
    )


def _label(feature: str) -> str:
    if feature == "churned":
        return "already churned"
    if feature in RFM_FEATURES:
        return RFM_FEATURES[feature]
    if feature.startswith("events_"):
        kind = feature.removeprefix("events_").rsplit("_", 1)[0].replace("_", " ")
        return f"{kind} events in the last {ENGAGEMENT_WINDOW_DAYS} days"
    if feature.startswith("engagement_"):
        return f"non-order events in the last {ENGAGEMENT_WINDOW_DAYS} days"
    return feature.removeprefix("attr_")


def reasons_json(explained: pd.DataFrame, top: int) -> pd.Series:
    """Each person's reasons as a JSON array of ``[feature, value, contribution]``
    arrays (:func:`stored_reason` reads them back as objects): the key names on every
    reason were 45% of the text a refresh writes for each active customer.

    Built as text, one %-format per person: a Python dict per reason took 5.5 us, which
    is 16 s for a million customers (and numpy string concatenation, column by column,
    1.6 s for 200,000 customers against 0.75 s). Numbers are written by orjson a column
    at a time (:func:`_json_numbers`). Labels and the direction (the sign of the
    contribution) are added when the scores are read.
    """
    persons = explained["row"].to_numpy()[::top]
    names = {f: orjson.dumps(f).decode() for f in explained["feature"].unique()}
    features = explained["feature"].map(names).tolist()
    values = _json_values(explained["value"])
    contributions = _json_numbers(explained["contribution"].to_numpy(dtype=float))
    # Each person's ``top`` reasons are consecutive rows of ``explained``.
    fields = []
    for rank in range(top):
        fields += [features[rank::top], values[rank::top], contributions[rank::top]]
    item = "[%s,%s,%s]"
    person = "[" + ",".join([item] * top) + "]"
    text = [person % reasons for reasons in zip(*fields, strict=True)]
    return pd.Series(text, index=pd.Index(persons, name="person_id"), dtype=object)


def _json_numbers(numbers: NDArray[np.float64]) -> list[str]:
    """JSON text of each number rounded to 4 decimals, NaN and infinities as null.

    orjson writes the whole column in C, each float as the shortest text that reads
    back (what ``repr`` writes), at a fifth of the cost of ``repr`` per value.
    """
    if not len(numbers):
        return []
    rounded = np.round(numbers, 4)
    return orjson.dumps(rounded, option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1].split(",")


def _json_values(values: pd.Series) -> list[str]:
    """JSON text of feature values: numbers rounded to 4 decimals, text quoted, NaN null."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = _json_numbers(numbers)
    text = np.flatnonzero(values.notna().to_numpy() & np.isnan(numbers))
    for at, value in zip(text.tolist(), values.to_numpy()[text], strict=True):
        out[at] = orjson.dumps(json_ready(value)).decode()
    return out


def stored_reason(item: list[Any] | dict[str, Any]) -> dict[str, Any]:
    """A stored reason as ``{feature, value, contribution}``: written as an array
    (:func:`reasons_json`), or as that object by refreshes before."""
    if isinstance(item, dict):
        return item
    feature, value, contribution = item
    return {"feature": feature, "value": value, "contribution": contribution}


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
