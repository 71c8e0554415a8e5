"""Devices: the `Device` contract, backends by name opened from a URL, and the `Supervisor`."""

from microamp.devices.base import MAX_EXPIRY_S, Capabilities, Command, Device, TelemetryFrame
from microamp.devices.registry import BACKENDS, BackendInfo, available_backends, open_device
from microamp.devices.supervisor import Supervisor, SupervisorUpdate

__all__ = [
    "BACKENDS",
    "MAX_EXPIRY_S",
    "BackendInfo",
    "Capabilities",
    "Command",
    "Device",
    "Supervisor",
    "SupervisorUpdate",
    "TelemetryFrame",
    "available_backends",
    "open_device",
]
