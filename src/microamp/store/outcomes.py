"""Results beside dose: a client's measures over time, against the charge delivered by zone and
the sessions attended, with the measurement error.

The error is the repeat-photo spread: two or more photos of one view taken on one day differ
only by the camera and the model, never by the face. Their pooled within-day standard
deviation ``s`` gives the smallest detectable change between two photos,
``1.96 x sqrt(2) x s`` (the 95 % limit for a difference of two readings). A change from the
first comparable photo that is smaller than that is "no measurable change". Until a client has
repeat photos, the error is the model's own repeatability measured on reframed copies of one
photograph (docs/measuring-results.md), and the page says so.

Photos outside their view's pose tolerance are listed with their flags and left out of every
change: never compared silently.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.store.crud import get_client
from microamp.store.models import ProgressEntry
from microamp.store.session_models import TreatmentSession
from microamp.vision.measures import MEASURE_NAMES, check_view

__all__ = [
    "DEFAULT_ERROR",
    "Outcomes",
    "client_outcomes",
    "client_photos",
    "outcomes_csv",
]

# What reframing one photograph moves each measure by (scale 0.75-1.5, a 10-degree turn, a
# shift; tests/vision/test_measures.py): the error until repeat photos give a client's own.
DEFAULT_ERROR = {
    "brow_height_left_mm": 1.5,
    "brow_height_right_mm": 1.5,
    "palpebral_fissure_left_mm": 1.0,
    "palpebral_fissure_right_mm": 1.0,
    "commissure_height_left_mm": 2.0,
    "commissure_height_right_mm": 2.0,
    "lower_face_width_mm": 3.0,
    "jawline_angle_left_deg": 2.0,
    "jawline_angle_right_deg": 2.0,
    "jowl_depth_left_mm": 1.0,
    "jowl_depth_right_mm": 1.0,
    "brow_symmetry_pct": 5.0,
    "palpebral_symmetry_pct": 8.0,
    "commissure_symmetry_pct": 3.0,
}
# a session that put current on the face counts as attended
_ATTENDED = ("completed", "stopped", "interrupted", "aborted")
_DETECTABLE = 1.96 * math.sqrt(2)


@dataclass(frozen=True, slots=True)
class PhotoPoint:
    entry_id: int
    taken_on: date
    comparable: bool
    quality: float
    flags: list[str]
    measures: dict[str, float]
    pose: dict[str, float]
    sessions_before: int
    charge_uc_before: dict[str, float]
    scale_source: str = "iris"  # or "sticker": what set the millimetre scale

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "taken_on": self.taken_on.isoformat(),
            "comparable": self.comparable,
            "quality": self.quality,
            "flags": list(self.flags),
            "measures": dict(self.measures),
            "pose": dict(self.pose),
            "sessions_before": self.sessions_before,
            "charge_uc_before": dict(self.charge_uc_before),
            "scale_source": self.scale_source,
        }


@dataclass(frozen=True, slots=True)
class MeasureTrend:
    name: str
    baseline: float | None
    latest: float | None
    change: float | None
    error: float
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseline": self.baseline,
            "latest": self.latest,
            "change": self.change,
            "error": self.error,
            "verdict": self.verdict,
        }


@dataclass(frozen=True, slots=True)
class Outcomes:
    client_id: int
    view: str
    photos: list[PhotoPoint]
    sessions: list[dict[str, Any]]
    zones: list[str]
    trends: list[MeasureTrend]
    error_source: str
    unmeasured: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "view": self.view,
            "error_source": self.error_source,
            "zones": list(self.zones),
            "sessions": [dict(s) for s in self.sessions],
            "photos": [p.as_dict() for p in self.photos],
            "measures": [t.as_dict() for t in self.trends],
            "unmeasured": list(self.unmeasured),
        }


def client_photos(session: Session, *, client_id: int) -> list[ProgressEntry]:
    """A client's progress entries that carry a photo, oldest first."""
    get_client(session, client_id=client_id)
    rows = session.scalars(
        select(ProgressEntry)
        .where(ProgressEntry.client_id == client_id, ProgressEntry.photo_sha256.is_not(None))
        .order_by(ProgressEntry.taken_on, ProgressEntry.id)
    )
    return list(rows)


def _sessions(session: Session, client_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.client_id == client_id, TreatmentSession.status.in_(_ATTENDED))
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
    )
    out = []
    for row in rows:
        charge = {}
        for zone, dose in (row.dose_by_zone or {}).items():
            value = dose.get("charge_uc") if isinstance(dose, dict) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                charge[str(zone)] = float(value)
        out.append({
            "id": row.id,
            "on": row.started_at.date().isoformat(),
            "status": row.status,
            "charge_uc_by_zone": charge,
        })  # fmt: skip
    return out


def _dose_before(sessions: Sequence[dict[str, Any]], on: date) -> tuple[int, dict[str, float]]:
    # a photo taken on a treatment day is taken before the treatment: the day's own session
    # counts from the next photo on
    count, charge = 0, defaultdict[str, float](float)
    for item in sessions:
        if date.fromisoformat(item["on"]) >= on:
            break
        count += 1
        for zone, value in item["charge_uc_by_zone"].items():
            charge[zone] += value
    return count, {zone: round(value, 3) for zone, value in charge.items()}


def _repeat_error(points: Sequence[PhotoPoint]) -> tuple[dict[str, float], int]:
    """The smallest detectable change per measure from same-day repeats, and the number of
    days that had repeats; an empty dict when there are none."""
    by_day: dict[date, list[PhotoPoint]] = defaultdict(list)
    for point in points:
        by_day[point.taken_on].append(point)
    days = [group for group in by_day.values() if len(group) >= 2]
    if not days:
        return {}, 0
    error = {}
    for name in MEASURE_NAMES:
        squares, degrees = 0.0, 0
        for group in days:
            values = [p.measures[name] for p in group if name in p.measures]
            if len(values) < 2:
                continue
            mean = sum(values) / len(values)
            squares += sum((v - mean) ** 2 for v in values)
            degrees += len(values) - 1
        if degrees:
            error[name] = round(_DETECTABLE * math.sqrt(squares / degrees), 2)
    return error, len(days)


def _verdict(name: str, change: float | None, error: float) -> str:
    if change is None:
        return "not enough comparable photos: two of this view are needed"
    unit = "deg" if name.endswith("_deg") else "%" if name.endswith("_pct") else "mm"
    if abs(change) <= error:
        return f"no measurable change (within +/- {error:g} {unit})"
    direction = "up" if change > 0 else "down"
    return f"{direction} {abs(change):g} {unit}, beyond the +/- {error:g} {unit} error"


def _trend(name: str, comparable: Sequence[PhotoPoint], error: float) -> MeasureTrend:
    values = [p.measures[name] for p in comparable if name in p.measures]
    if len(values) < 2:
        baseline = values[0] if values else None
        return MeasureTrend(name, baseline, baseline, None, error, _verdict(name, None, error))
    change = round(values[-1] - values[0], 2)
    return MeasureTrend(name, values[0], values[-1], change, error, _verdict(name, change, error))


def client_outcomes(session: Session, *, client_id: int, view: str = "front") -> Outcomes:
    """The client's measured photos of ``view`` beside the dose delivered before each."""
    check_view(view)
    sessions = _sessions(session, client_id)
    points, unmeasured = [], []
    for entry in client_photos(session, client_id=client_id):
        if entry.view != view:
            continue
        if entry.measurement is None:
            unmeasured.append({
                "entry_id": entry.id, "taken_on": entry.taken_on.isoformat(),
                "reason": entry.unmeasured or "not measured",
            })  # fmt: skip
            continue
        count, charge = _dose_before(sessions, entry.taken_on)
        m = entry.measurement
        points.append(
            PhotoPoint(
                entry_id=entry.id,
                taken_on=entry.taken_on,
                comparable=bool(m.get("comparable")),
                quality=float(m.get("quality", 0.0)),
                flags=list(m.get("flags", [])),
                measures={k: float(v) for k, v in m.get("measures", {}).items()},
                pose=dict(m.get("pose", {})),
                sessions_before=count,
                charge_uc_before=charge,
                scale_source=str((m.get("scale") or {}).get("source", "iris")),
            )
        )
    comparable = [p for p in points if p.comparable]
    repeat, days = _repeat_error(comparable)
    if repeat:
        source = f"repeat photos: {days} day(s) with two or more {view} photos"
    else:
        source = (
            "the model's repeatability on reframed photos: take two "
            f"{view} photos on one visit for this client's own"
        )
    errors = {name: repeat.get(name, DEFAULT_ERROR[name]) for name in MEASURE_NAMES}
    zones = sorted({zone for s in sessions for zone in s["charge_uc_by_zone"]})
    return Outcomes(
        client_id=client_id,
        view=view,
        photos=points,
        sessions=sessions,
        zones=zones,
        trends=[_trend(name, comparable, errors[name]) for name in MEASURE_NAMES],
        error_source=source,
        unmeasured=unmeasured,
    )


def outcomes_csv(outcomes: Outcomes) -> str:
    """One row per measured photo: its date, whether it is comparable, the sessions and charge
    by zone delivered before it, and every measure."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    zone_columns = [f"charge_uc_before_{zone}" for zone in outcomes.zones]
    writer.writerow(["entry_id", "taken_on", "view", "comparable", "quality", "scale_source",
                     "sessions_before",
                     *zone_columns, *MEASURE_NAMES, "yaw_deg", "pitch_deg", "roll_deg", "flags"])  # fmt: skip
    for p in outcomes.photos:
        writer.writerow([
            p.entry_id, p.taken_on.isoformat(), outcomes.view, "yes" if p.comparable else "no",
            p.quality, p.scale_source, p.sessions_before,
            *(p.charge_uc_before.get(zone, 0.0) for zone in outcomes.zones),
            *(p.measures.get(name, "") for name in MEASURE_NAMES),
            p.pose.get("yaw_deg", ""), p.pose.get("pitch_deg", ""), p.pose.get("roll_deg", ""),
            "; ".join(p.flags),
        ])  # fmt: skip
    return out.getvalue()
