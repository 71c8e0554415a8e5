"""`LimitProfile`: the numbers that bound every output, each carrying where it comes from.

Built-in profiles are ``home`` and ``professional``; custom ones load from TOML and may never
go past the absolute ceilings below. The built-in names are reserved: a custom profile is always
named ``custom:<name>`` and carries the hash of its content, so no record can pass it off as a
built-in one (a microcurrent device stays under 1 mA, and IEC 60601-2-10
asks for special attention above 2 mA r.m.s./cm²).

Custom profile TOML::

    name = "clinic-gentle"
    base = "professional"            # optional: start from a built-in
    [limits]
    max_amplitude_ua = 600           # a plain number: source "custom profile clinic-gentle"
    max_session_s = { value = 3600, source = "clinic policy 2026-03" }
    [zone_caps_ua]
    eyes = 150
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from microamp.errors import InvalidValue, InvalidValues

__all__ = [
    "ABSOLUTE_CEILINGS",
    "CUSTOM_PREFIX",
    "BUILTIN_PROFILES",
    "ZONES",
    "Limit",
    "LimitProfile",
    "get_profile",
    "load_profile",
]

CUSTOM_PREFIX = "custom:"
ZONES = ("forehead", "brows", "eyes", "nose", "cheeks", "mouth", "jawline", "chin", "neck")


class Limit(BaseModel):
    """One limit value with its source."""

    model_config = ConfigDict(frozen=True)

    value: float
    source: str


IEC = "IEC 60601-2-10"
_SRC_HOME_AMP = "NuFACE 510(k) K103472 / K181008: home devices 80-400 µA"
_SRC_PRO_AMP = "professional microcurrent machines 10-1000 µA; microcurrent stays under 1 mA"
_SRC_EYES = "NuFACE Trinity ELE (K131251) 53-192 µA; Acuscope practice <= 200 µA on the face"
_SRC_FREQ = "professional devices 0.1-999 Hz (FSM) and up to 1500 Hz (Pantheon Research)"
_SRC_DENSITY = f"{IEC}: densities above 2 mA r.m.s./cm² need the operator's special attention"
_SRC_DENSITY_WARN = "microamp: warn at half the IEC 60601-2-10 attention threshold"
_SRC_IMBALANCE = (
    "microamp: bounds net charge between polarity reversals (electrochemistry at the electrode)"
)
_SRC_DC = "microamp: bounds the mean (DC) current over any 10 s window"
_SRC_SLEW = "microamp: intensity ramps, as restim ramps on start; no sudden steps"
_SRC_HOME_TIME = "home devices: 5-20 min routines, NuFACE Mini Plus auto-off after 20 min"
_SRC_PRO_TIME = "professional facials last 15-60 min; 90 min is the upper bound"
_SRC_HOME_DAY = (
    "home devices: one 5-20 min routine a day (NuFACE: 5 days a week for 60 days), "
    "never past the 20-minute auto-off in a day"
)
_SRC_PRO_DAY = "microamp: one professional facial a day, at most 90 min"
_SRC_COMPLIANCE = "constant-current microcurrent sources: +-60 V (Wing), +-70 V (Pantheon)"


class LimitProfile(BaseModel):
    """Every number that bounds output under one profile. Units are in the field names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    max_amplitude_ua: Limit
    zone_caps_ua: dict[str, Limit]
    min_frequency_hz: Limit
    max_frequency_hz: Limit
    max_rms_density_ma_cm2: Limit
    warn_rms_density_ma_cm2: Limit
    max_imbalance_uc: Limit
    max_mean_dc_ua: Limit
    dc_window_s: Limit
    max_slew_ua_s: Limit
    max_session_s: Limit
    # the time one person may have in a day, all sessions together (never below one session)
    max_daily_s: Limit
    min_compliance_v: Limit
    max_compliance_v: Limit
    # custom profiles only: the built-in one they start from, and ``sha256:<hex>`` of their file
    base: str = ""
    content_hash: str = ""

    @property
    def custom(self) -> bool:
        return self.name.startswith(CUSTOM_PREFIX)

    def limit_items(self) -> dict[str, Limit]:
        """Every scalar limit by name (zone caps are under ``zone_caps_ua.<zone>``)."""
        items: dict[str, Limit] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Limit):
                items[name] = value
        for zone, cap in self.zone_caps_ua.items():
            items[f"zone_caps_ua.{zone}"] = cap
        return items

    def zone_cap_ua(self, zone: str | None) -> float:
        """The amplitude cap for a zone: the zone's own cap if any, never above the profile's."""
        cap = self.max_amplitude_ua.value
        if zone is not None and zone in self.zone_caps_ua:
            cap = min(cap, self.zone_caps_ua[zone].value)
        return cap

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


def _l(value: float, source: str) -> Limit:
    return Limit(value=value, source=source)


HOME = LimitProfile(
    name="home",
    max_amplitude_ua=_l(400, _SRC_HOME_AMP),
    zone_caps_ua={"eyes": _l(200, _SRC_EYES)},
    min_frequency_hz=_l(0.1, _SRC_FREQ),
    max_frequency_hz=_l(1000, _SRC_FREQ),
    max_rms_density_ma_cm2=_l(2.0, _SRC_DENSITY),
    warn_rms_density_ma_cm2=_l(1.0, _SRC_DENSITY_WARN),
    max_imbalance_uc=_l(1000, _SRC_IMBALANCE),
    max_mean_dc_ua=_l(100, _SRC_DC),
    dc_window_s=_l(10, _SRC_DC),
    max_slew_ua_s=_l(400, _SRC_SLEW),
    max_session_s=_l(20 * 60, _SRC_HOME_TIME),
    max_daily_s=_l(20 * 60, _SRC_HOME_DAY),
    min_compliance_v=_l(5, _SRC_COMPLIANCE),
    max_compliance_v=_l(40, "microamp: home devices run on batteries below 40 V compliance"),
)

PROFESSIONAL = LimitProfile(
    name="professional",
    max_amplitude_ua=_l(1000, _SRC_PRO_AMP),
    zone_caps_ua={"eyes": _l(200, _SRC_EYES)},
    min_frequency_hz=_l(0.1, _SRC_FREQ),
    max_frequency_hz=_l(1500, _SRC_FREQ),
    max_rms_density_ma_cm2=_l(2.0, _SRC_DENSITY),
    warn_rms_density_ma_cm2=_l(1.0, _SRC_DENSITY_WARN),
    max_imbalance_uc=_l(2500, _SRC_IMBALANCE),
    max_mean_dc_ua=_l(300, _SRC_DC),
    dc_window_s=_l(10, _SRC_DC),
    max_slew_ua_s=_l(1000, _SRC_SLEW),
    max_session_s=_l(90 * 60, _SRC_PRO_TIME),
    max_daily_s=_l(90 * 60, _SRC_PRO_DAY),
    min_compliance_v=_l(5, _SRC_COMPLIANCE),
    max_compliance_v=_l(70, _SRC_COMPLIANCE),
)

BUILTIN_PROFILES: dict[str, LimitProfile] = {p.name: p for p in (HOME, PROFESSIONAL)}

# No profile may go past these, whatever its file says.
ABSOLUTE_CEILINGS: dict[str, float] = {
    "max_amplitude_ua": 1000.0,
    "max_frequency_hz": 2000.0,
    "max_rms_density_ma_cm2": 2.0,
    "warn_rms_density_ma_cm2": 2.0,
    "max_imbalance_uc": 5000.0,
    "max_mean_dc_ua": 1000.0,
    "max_slew_ua_s": 5000.0,
    "max_session_s": 120 * 60.0,
    "max_daily_s": 240 * 60.0,
    "max_compliance_v": 100.0,
}


def get_profile(name: str) -> LimitProfile:
    """A built-in profile by name, or a custom one from a ``.toml`` path."""
    if name in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name]
    if name.endswith(".toml"):
        return load_profile(Path(name))
    raise InvalidValue(
        "profile", name, f"must be one of {', '.join(BUILTIN_PROFILES)} or a .toml file"
    )


def load_profile(path: Path) -> LimitProfile:
    """Load a custom profile; every problem is reported, each naming its key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidValue("profile", str(path), f"cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue("profile", str(path), f"is not valid TOML: {exc}") from None
    return profile_from_dict(data)


def _as_limit(key: str, raw: object, default_source: str) -> Limit:
    if isinstance(raw, dict):
        try:
            return Limit.model_validate(raw)
        except ValidationError:
            raise InvalidValue(key, raw, "must be a number or {value, source}") from None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InvalidValue(key, raw, "must be a number or {value, source}")
    return Limit(value=float(raw), source=default_source)


def _custom_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidValue("name", name, "a custom profile needs a name")
    bare = name.strip().lower().removeprefix(CUSTOM_PREFIX)
    if bare in BUILTIN_PROFILES or name.lower().startswith(CUSTOM_PREFIX):
        raise InvalidValue(
            "name",
            name,
            f"{', '.join(BUILTIN_PROFILES)} are the built-in profiles: a custom profile needs "
            f"its own name (it shows as {CUSTOM_PREFIX}<name>)",
        )
    return name


def _content_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def profile_from_dict(data: dict[str, Any]) -> LimitProfile:
    """A custom profile from parsed TOML, named ``custom:<name>``; every problem is reported."""
    name = _custom_name(data.get("name"))
    unknown = set(data) - {"name", "base", "limits", "zone_caps_ua"}
    if unknown:
        key = sorted(unknown)[0]
        raise InvalidValue(key, data[key], "unknown key; allowed: name, base, limits, zone_caps_ua")
    base_name = data.get("base", "home")
    if base_name not in BUILTIN_PROFILES:
        raise InvalidValue("base", base_name, f"must be one of {', '.join(BUILTIN_PROFILES)}")
    merged = BUILTIN_PROFILES[base_name].model_dump()
    merged.update(name=CUSTOM_PREFIX + name, base=base_name, content_hash=_content_hash(data))
    source = f"custom profile {name}"
    errors: list[InvalidValue] = []
    scalar_fields = {k for k in BUILTIN_PROFILES[base_name].limit_items() if "." not in k}
    for key, raw in dict(data.get("limits", {})).items():
        path = f"limits.{key}"
        try:
            if key not in scalar_fields:
                raise InvalidValue(
                    path, raw, f"unknown limit; known: {', '.join(sorted(scalar_fields))}"
                )
            merged[key] = _as_limit(path, raw, source).model_dump()
        except InvalidValue as exc:
            errors.append(exc)
    for zone, raw in dict(data.get("zone_caps_ua", {})).items():
        path = f"zone_caps_ua.{zone}"
        try:
            if zone not in ZONES:
                raise InvalidValue(path, zone, f"unknown zone; zones: {', '.join(ZONES)}")
            merged["zone_caps_ua"][zone] = _as_limit(path, raw, source).model_dump()
        except InvalidValue as exc:
            errors.append(exc)
    if errors:
        raise InvalidValues(errors)
    profile = LimitProfile.model_validate(merged)
    check_profile(profile)
    return profile


def check_profile(profile: LimitProfile) -> None:
    """Refuse a profile that goes past an absolute ceiling or contradicts itself."""
    errors: list[InvalidValue] = []
    for key, limit in profile.limit_items().items():
        if not limit.value >= 0:
            errors.append(InvalidValue(f"limits.{key}", limit.value, "must be at least 0"))
        field = "max_amplitude_ua" if key.startswith("zone_caps_ua.") else key
        ceiling = ABSOLUTE_CEILINGS.get(field)
        if ceiling is not None and limit.value > ceiling:
            errors.append(
                InvalidValue(
                    f"limits.{key}", limit.value, f"must be at most {ceiling:g} (absolute ceiling)"
                )
            )
    pairs = (
        ("min_frequency_hz", "max_frequency_hz"),
        ("warn_rms_density_ma_cm2", "max_rms_density_ma_cm2"),
        ("min_compliance_v", "max_compliance_v"),
        ("max_session_s", "max_daily_s"),
    )
    for low, high in pairs:
        if getattr(profile, low).value > getattr(profile, high).value:
            errors.append(
                InvalidValue(
                    f"limits.{low}", getattr(profile, low).value, f"must not exceed {high}"
                )
            )
    if errors:
        raise InvalidValues(errors)
