"""Devices: the `Device` contract, backends by name, opened from a URL."""

from microamp.devices.base import MAX_EXPIRY_S, Capabilities, Command, Device, TelemetryFrame

__all__ = ["MAX_EXPIRY_S", "Capabilities", "Command", "Device", "TelemetryFrame"]
