"""Combining a customer's signals into one risk score (0-1) with its reasons in plain words.

The combination is a noisy-OR: each signal alone, at strength s, gives risk w x s (its
weight w from the settings, :data:`tenure.retention.schemas.DEFAULT_WEIGHTS`), and
independent signals combine as

    risk = 1 - prod_i (1 - w_i x s_i)

so a second signal always raises the risk, never past 1, and no signal means 0. It is a
ranking score with documented weights, not a calibrated probability: the data to fit
weights (customers who left after such signals) is rarely labelled in a CRM. The reasons
are the signals' sentences, strongest contribution (w x s) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenure.retention.schemas import DEFAULT_WEIGHTS
from tenure.retention.signals import Signal, SignalMap


@dataclass(frozen=True)
class Assessment:
    """One customer's risk, value and reasons as of a refresh."""

    person_id: int
    risk: float
    reasons: list[dict[str, Any]]
    signals: dict[str, Any]
    value_minor: int | None
    currency: str | None

    @property
    def value_at_risk_minor(self) -> int:
        return round((self.value_minor or 0) * self.risk)


def combine(
    signals: list[Signal], weights: dict[str, float] | None = None
) -> tuple[float, list[dict[str, Any]]]:
    """Risk in [0, 1] and the reasons, strongest first, of one customer's signals."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    survive = 1.0
    reasons: list[dict[str, Any]] = []
    for signal in signals:
        strength = min(1.0, max(0.0, signal.strength))
        contribution = weights.get(signal.kind, 0.0) * strength
        survive *= 1.0 - contribution
        reasons.append(
            {"signal": signal.kind, "text": signal.text, "contribution": round(contribution, 4)}
        )
    reasons.sort(key=lambda r: (-r["contribution"], r["signal"]))
    return 1.0 - survive, reasons


def assess(
    signals: SignalMap,
    weights: dict[str, float],
    values: dict[int, int | None],
    currency: str | None,
) -> list[Assessment]:
    """An assessment for every customer with at least one signal, highest value at risk first."""
    out = []
    for person_id, found in signals.items():
        risk, reasons = combine(found, weights)
        measured = {
            s.kind: {"strength": round(min(1.0, max(0.0, s.strength)), 4), **s.facts} for s in found
        }
        value = values.get(person_id)
        out.append(
            Assessment(
                person_id, risk, reasons, measured, value, currency if value is not None else None
            )
        )
    out.sort(key=lambda a: (-a.value_at_risk_minor, -a.risk, a.person_id))
    return out


def summary(reasons: list[dict[str, Any]], limit: int = 3) -> str:
    """The reasons as one line, strongest first: "orders every ~6 weeks, none for ...; ..."."""
    return "; ".join(r["text"] for r in reasons[:limit])
