"""Where a step puts the probes, checked whatever the step names.

A muscle brings its own path (drawn clear of every forbidden placement); a drawn ``probe_path``
is checked point by point, on both sides for a paired step, and as a whole for current through
the head; a step that names only a zone must draw a path when the zone holds a forbidden
placement (the eyes, the front of the neck), since nothing else says where the probes go; and a
cue that tells the operator to use a forbidden placement is refused whatever the path says.
"""

from __future__ import annotations

import math

from microamp.errors import InvalidValue
from microamp.protocols.anatomy import (
    FORBIDDEN,
    MAP_HEIGHT,
    MAP_WIDTH,
    MIDLINE_X,
    ZONE_FORBIDDEN,
    Muscle,
    Point,
    forbidden_at,
    forbidden_in_cue,
    mirror,
    path_crosses_head,
)
from microamp.protocols.schema import Step

__all__ = ["cue_errors", "resolve_path"]

# A paired muscle's path is drawn on the person's right; this much past the midline is allowed.
_PAIRED_MAX_X = MIDLINE_X + 20.0
_THROUGH_HEAD = next(f for f in FORBIDDEN if f.name == "through-head")


def resolve_path(
    at: str,
    step: Step,
    side: str,
    muscle: Muscle | None,
    zone: str | None,
    errors: list[InvalidValue],
) -> tuple[Point, ...]:
    """The step's probe path (the muscle's when none is drawn); problems go to ``errors``."""
    if step.probe_path is None:
        if muscle is None and zone in ZONE_FORBIDDEN:
            errors.append(_unplaced(at, zone))
        return muscle.path_xy if muscle else ()
    path = tuple((float(x), float(y)) for x, y in step.probe_path)
    paired = muscle.paired if muscle else side != "midline"
    for j, point in enumerate(path):
        errors += _point_errors(f"{at}.probe_path[{j}]", point, side, paired)
    if path_crosses_head(path):
        errors.append(
            InvalidValue(f"{at}.probe_path", [list(p) for p in path], _THROUGH_HEAD.description)
        )
    return path


def _unplaced(at: str, zone: str) -> InvalidValue:
    places = " or ".join(f.description for f in ZONE_FORBIDDEN[zone])
    return InvalidValue(
        f"{at}.probe_path",
        None,
        f"a {zone} step without a muscle must draw its probe_path: never place probes "
        f"{places} [{FORBIDDEN[0].source}]",
    )


def cue_errors(at: str, cue: str) -> list[InvalidValue]:
    """The cue is what the operator follows: it may not send the probes where they must not go."""
    forbidden = forbidden_in_cue(cue)
    if forbidden is None:
        return []
    return [
        InvalidValue(
            f"{at}.cue", cue, f"never place probes {forbidden.description} [{forbidden.source}]"
        )
    ]


def _point_errors(where: str, point: Point, side: str, paired: bool) -> list[InvalidValue]:
    x, y = point
    value = [x, y]
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= MAP_WIDTH and 0 <= y <= MAP_HEIGHT):
        return [
            InvalidValue(
                where, value, f"must lie on the face map (0-{MAP_WIDTH:g}, 0-{MAP_HEIGHT:g})"
            )
        ]
    if paired and x > _PAIRED_MAX_X:
        return [
            InvalidValue(
                where,
                value,
                "paths are drawn on the person's right (x <= 220); the left is mirrored",
            )
        ]
    placed = [point, mirror(point)] if paired and side in ("left", "both") else [point]
    for p in placed:
        forbidden = forbidden_at(p)
        if forbidden is not None:
            return [InvalidValue(where, value, f"never place probes {forbidden.description}")]
    return []
