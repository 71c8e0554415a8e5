"""Stations: the one owner of one device. A station runs sessions on its device and talks to
the store; web workers reach its sessions only through the store (`StoreSessions`)."""

from microamp.station.live import (
    FRESH_S,
    TELEMETRY_PER_S,
    LiveSession,
    LiveSessions,
    SessionEnded,
    StartRequest,
    session_clock,
)
from microamp.station.remote import (
    ControlRefused,
    RemoteSession,
    StationUnavailable,
    StoreSessions,
)
from microamp.station.station import Station
from microamp.station.sweeper import Sweeper

__all__ = [
    "FRESH_S",
    "TELEMETRY_PER_S",
    "ControlRefused",
    "LiveSession",
    "LiveSessions",
    "RemoteSession",
    "SessionEnded",
    "StartRequest",
    "Station",
    "StationUnavailable",
    "StoreSessions",
    "Sweeper",
    "session_clock",
]
