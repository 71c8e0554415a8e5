"""Validate a protocol against anatomy and a limit profile, and resolve it into planned steps.

Every problem is collected before anything is raised, so one `InvalidValues` lists them all. Each
error names its path in the file (``steps[3].waveform.amplitude_ua``, or
``defaults.waveform.amplitude_ua`` when the step inherits the value), the value and the rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from microamp.errors import InvalidValue, InvalidValues
from microamp.protocols.anatomy import Muscle, get_muscle
from microamp.protocols.limits import step_limit_errors, waveform_field_path
from microamp.protocols.placement import cue_errors, resolve_path
from microamp.protocols.schema import GLIDING, Defaults, PlannedStep, Protocol, Side, Step
from microamp.safety.limits import ZONES, LimitProfile
from microamp.stimulus.waveform import Waveform

__all__ = ["parse_protocol", "plan_protocol", "protocol_errors"]

LENGTHEN_TECHNIQUES = ("lengthen", "lymph")


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_for(loc: tuple[int | str, ...]) -> type[BaseModel]:
    if loc and loc[0] == "defaults":
        return Defaults
    return Step if loc and loc[0] == "steps" else Protocol


def _pydantic_errors(exc: ValidationError) -> list[InvalidValue]:
    errors = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _loc_path(loc)
        if err["type"] == "missing":
            errors.append(InvalidValue(path, "", "a value is required"))
        elif err["type"] == "extra_forbidden":
            known = list(_model_for(loc).model_fields)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            errors.append(InvalidValue(path, err["input"], f"unknown key; {hint}"))
        else:
            errors.append(InvalidValue(path, err["input"], err["msg"]))
    return errors


def parse_protocol(data: Mapping[str, Any], profile: LimitProfile | None = None) -> Protocol:
    """A `Protocol` from parsed TOML, checked against anatomy and (if given) ``profile``.

    Raises `InvalidValues` listing every problem found.
    """
    errors = protocol_errors(data, profile)
    if errors:
        raise InvalidValues(errors)
    return Protocol.model_validate(data)


def protocol_errors(
    data: Mapping[str, Any], profile: LimitProfile | None = None
) -> list[InvalidValue]:
    """Every problem in a protocol's data: schema, anatomy and, if given, the limit profile."""
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        return _dedupe(_pydantic_errors(exc) + _partial_errors(data, profile))
    _, errors = _plan(protocol, profile)
    return errors


def _partial_errors(data: Mapping[str, Any], profile: LimitProfile | None) -> list[InvalidValue]:
    """Anatomy and limit errors in the steps that did parse, when the file as a whole did not."""
    try:
        defaults = Defaults.model_validate(data.get("defaults", {}))
    except (ValidationError, AttributeError):
        defaults = Defaults()
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        return []
    cap = data.get("max_amplitude_ua")
    protocol_max_ua = float(cap) if isinstance(cap, int | float) else None
    errors: list[InvalidValue] = []
    for i, raw in enumerate(raw_steps):
        try:
            step = Step.model_validate(raw)
        except ValidationError:
            continue
        planned = _plan_step(i, step, defaults, errors)
        if planned is not None and profile is not None:
            errors += step_limit_errors(planned, step, profile, protocol_max_ua)
    return errors


def plan_protocol(protocol: Protocol, profile: LimitProfile | None = None) -> list[PlannedStep]:
    """The protocol's steps with defaults resolved; raises `InvalidValues` if any step is wrong."""
    steps, errors = _plan(protocol, profile)
    if errors:
        raise InvalidValues(errors)
    return steps


def _plan(
    protocol: Protocol, profile: LimitProfile | None
) -> tuple[list[PlannedStep], list[InvalidValue]]:
    errors: list[InvalidValue] = []
    steps: list[PlannedStep] = []
    for i, step in enumerate(protocol.steps):
        planned = _plan_step(i, step, protocol.defaults, errors)
        if planned is None:
            continue
        steps.append(planned)
        if profile is not None:
            errors += step_limit_errors(planned, step, profile, protocol.max_amplitude_ua)
    if len(steps) == len(protocol.steps):
        errors += _duration_errors(protocol, steps, profile)
    return steps, _dedupe(errors)


def _dedupe(errors: list[InvalidValue]) -> list[InvalidValue]:
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for e in errors:
        key = (e.field, repr(e.value), e.rule)
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return unique


# -- one step -----------------------------------------------------------------------------------


def _plan_step(
    i: int, step: Step, defaults: Defaults, errors: list[InvalidValue]
) -> PlannedStep | None:
    """Resolve one step, appending its problems to ``errors``; None if it cannot be resolved."""
    at = f"steps[{i}]"
    before = len(errors)
    muscle = _resolve_muscle(at, step, errors)
    zone = _resolve_zone(at, step, muscle, errors)
    side: Side = step.side or (muscle.default_side if muscle else "both")
    if muscle is not None and side not in muscle.sides:
        errors.append(
            InvalidValue(f"{at}.side", side, f"{muscle.name} allows {', '.join(muscle.sides)}")
        )
    technique = step.technique or (muscle.technique if muscle else "hold")
    if muscle is not None and muscle.lengthen_only and technique not in LENGTHEN_TECHNIQUES:
        errors.append(
            InvalidValue(
                f"{at}.technique",
                technique,
                f"{muscle.name} is lengthened, not lifted: use lengthen or lymph",
            )
        )
    repetition_s = _repetition_s(at, step, technique, defaults, errors)
    ramp_s = step.ramp_s if step.ramp_s is not None else defaults.ramp_s
    if 2 * ramp_s > repetition_s:
        where = f"{at}.ramp_s" if step.ramp_s is not None else "defaults.ramp_s"
        errors.append(
            InvalidValue(where, ramp_s, f"ramps up and down must fit in {at}'s {repetition_s:g} s")
        )
    waveform = _resolve_waveform(at, step, defaults, errors)
    path = resolve_path(at, step, side, muscle, zone, errors)
    errors += cue_errors(at, step.cue)
    if len(errors) > before or waveform is None or zone is None:
        return None
    return PlannedStep(
        index=i,
        muscle=muscle.name if muscle else None,
        label=muscle.label if muscle else f"{zone} zone",
        zone=zone,
        side=side,
        technique=technique,
        waveform=waveform,
        intensity=step.intensity if step.intensity is not None else defaults.intensity,
        repetition_s=repetition_s,
        repetitions=step.repetitions if step.repetitions is not None else defaults.repetitions,
        ramp_s=ramp_s,
        cue_interval_s=step.cue_interval_s or defaults.cue_interval_s,
        cue=step.cue or _default_cue(muscle, zone, technique),
        path_xy=path,
        electrode_area_cm2=defaults.electrode_area_cm2,
    )


def _default_cue(muscle: Muscle | None, zone: str, technique: str) -> str:
    where = muscle.label if muscle else f"the {zone}"
    return f"{technique.replace('-', ' ').capitalize()}: {where}"


def _resolve_muscle(at: str, step: Step, errors: list[InvalidValue]) -> Muscle | None:
    if step.muscle is None:
        if step.zone is None:
            errors.append(InvalidValue(at, "", "a step needs a muscle or a zone"))
        return None
    try:
        return get_muscle(step.muscle, f"{at}.muscle")
    except InvalidValue as exc:
        errors.append(exc)
        return None


def _resolve_zone(
    at: str, step: Step, muscle: Muscle | None, errors: list[InvalidValue]
) -> str | None:
    if step.zone is None:
        return muscle.zone if muscle else None
    if step.zone not in ZONES:
        close = difflib.get_close_matches(step.zone, ZONES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"zones: {', '.join(ZONES)}"
        errors.append(InvalidValue(f"{at}.zone", step.zone, f"unknown zone; {hint}"))
        return None
    if muscle is not None and step.zone != muscle.zone:
        errors.append(
            InvalidValue(f"{at}.zone", step.zone, f"{muscle.name} is in the {muscle.zone} zone")
        )
        return None
    return step.zone


def _repetition_s(
    at: str, step: Step, technique: str, defaults: Defaults, errors: list[InvalidValue]
) -> float:
    gliding = technique in GLIDING
    wrong = step.hold_s if gliding else step.glide_s
    if wrong is not None:
        key, right = ("hold_s", "glide_s") if gliding else ("glide_s", "hold_s")
        errors.append(InvalidValue(f"{at}.{key}", wrong, f"a {technique} step is timed by {right}"))
    if gliding:
        return step.glide_s if step.glide_s is not None else defaults.glide_s
    return step.hold_s if step.hold_s is not None else defaults.hold_s


def _resolve_waveform(
    at: str, step: Step, defaults: Defaults, errors: list[InvalidValue]
) -> Waveform | None:
    try:
        return Waveform.from_dict({**defaults.waveform, **step.waveform})
    except InvalidValue as exc:
        errors.append(InvalidValue(waveform_field_path(at, step, exc.field), exc.value, exc.rule))
    except TypeError as exc:
        errors.append(InvalidValue(f"{at}.waveform", step.waveform, f"bad waveform: {exc}"))
    return None


def _duration_errors(
    protocol: Protocol, steps: list[PlannedStep], profile: LimitProfile | None
) -> list[InvalidValue]:
    total_s = sum(s.duration_s for s in steps)
    errors = []
    if profile is not None and total_s > profile.max_session_s.value:
        limit = profile.max_session_s
        errors.append(
            InvalidValue(
                "steps",
                f"{total_s:g} s",
                f"the steps take {total_s / 60:.1f} min, past the {profile.name} profile's "
                f"max_session_s {limit.value:g} s [{limit.source}]",
            )
        )
    if (
        profile is not None
        and (profile.base or profile.name) == "home"
        and protocol.audience == "professional"
    ):
        errors.append(
            InvalidValue(
                "audience",
                protocol.audience,
                "a professional protocol needs a professional profile",
            )
        )
    estimate = protocol.estimated_minutes
    if estimate is not None and abs(estimate * 60 - total_s) > 0.25 * total_s + 30:
        errors.append(
            InvalidValue("estimated_minutes", estimate, f"the steps take {total_s / 60:.1f} min")
        )
    return errors
