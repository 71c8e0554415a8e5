"""The console's choices as posted (client, protocol, device, level, cap), checked: every bad
one is named at once, so the form comes back with each of its fields in error marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microamp.errors import InvalidValue, InvalidValues
from microamp.store.leases import device_identity
from microamp.store.stations import StationView
from microamp.web.settings import WebSettings

SIM_DEVICES = {
    "sim://?load=gel": "Simulator: probes on gelled skin",
    "sim://?load=wet": "Simulator: skin with little gel",
    "sim://?load=dry": "Simulator: dry skin",
    "sim://?load=gel&rp_ohm=80000": "Simulator: skin drying out under the gel (high impedance)",
    "sim://?load=lifted": "Simulator: a probe lifted off the skin",
}
# the labels of the console's form, which lead its error messages
LABELS = {
    "client_id": "Client",
    "protocol": "Protocol",
    "device_url": "Device",
    "intensity": "Level (%)",
    "practitioner_max_ua": "Your cap (µA)",
    "appointment_id": "Booked visit",
}
_CAP_MIN_UA, _CAP_MAX_UA = 10.0, 1000.0

# client id, protocol name, device URL, level (0-1 of each step's current), cap in µA or None
Choice = tuple[int, str, str, float, float | None]


def device_choices(settings: WebSettings, stations: Sequence[StationView] = ()) -> dict[str, str]:
    """The devices a session may start on: the clinic's, each registered station's, and the
    simulator's skins (its parameters, on the one simulator)."""
    choices = {settings.device_url: f"Clinic device ({settings.device_url})"}
    for station in stations:
        choices.setdefault(station.device_url, f"{station.name} ({station.device_url})")
    for url, label in SIM_DEVICES.items():
        choices.setdefault(url, label)
    return choices


def _station_note(station: StationView) -> str:
    if not station.online:
        return f"{station.name}, offline"
    return f"{station.name}, {'busy' if station.busy else 'online'}"


def device_labels(settings: WebSettings, stations: Sequence[StationView]) -> dict[str, str]:
    """`device_choices` labelled with the station that drives each device: online, busy or
    offline (a device no station drives says so)."""
    by_device = {s.device: s for s in sorted(stations, key=lambda s: not s.online)}
    labelled = {}
    for url, label in device_choices(settings, stations).items():
        station = by_device.get(device_identity(url))
        note = _station_note(station) if station is not None else "no station"
        labelled[url] = f"{label} · {note}"
    return labelled


def _whole(field: str, raw: str, rule: str, errors: list[InvalidValue]) -> int | None:
    try:
        return int(raw.strip())
    except ValueError:
        errors.append(InvalidValue(field, raw, rule))
        return None


def _cap_ua(raw: str, errors: list[InvalidValue]) -> float | None:
    if not raw.strip():
        return None
    try:
        cap = float(raw)
    except ValueError:
        errors.append(InvalidValue("practitioner_max_ua", raw, "a number of µA"))
        return None
    if not _CAP_MIN_UA <= cap <= _CAP_MAX_UA:
        errors.append(InvalidValue("practitioner_max_ua", raw, "10-1000 µA"))
        return None
    return cap


def parse_choice(
    settings: WebSettings,
    names: list[str],
    typed: dict[str, Any],
    stations: Sequence[StationView] = (),
) -> Choice:
    """The console's choice from ``typed`` (the form's fields as posted, all strings); raises
    `InvalidValue` (`InvalidValues` for several) naming each field in error."""
    errors: list[InvalidValue] = []
    client_id = _whole("client_id", typed["client_id"], "choose a client", errors)
    if typed["protocol"] not in names:
        errors.append(
            InvalidValue("protocol", typed["protocol"], "choose a protocol from the list")
        )
    if typed["device_url"] not in device_choices(settings, stations):
        errors.append(
            InvalidValue("device_url", typed["device_url"], "choose one of the listed devices")
        )
    # whole percent from 1 %: the lowest level stays under IEC 60601-2-10's 2 % of the highest
    level = _whole("intensity", typed["intensity"], "a level of 1-100 %", errors)
    if level is not None and not 1 <= level <= 100:
        errors.append(InvalidValue("intensity", typed["intensity"], "a level of 1-100 %"))
    cap = _cap_ua(typed["practitioner_max_ua"], errors)
    if errors or client_id is None or level is None:  # a None is always among the errors
        raise errors[0] if len(errors) == 1 else InvalidValues(errors)
    return client_id, typed["protocol"], typed["device_url"], level / 100, cap
