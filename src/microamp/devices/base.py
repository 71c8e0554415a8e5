"""The `Device` contract: one base class owns the public methods, drivers fill private hooks.

After python-can's ``BusABC``: `apply`, `heartbeat`, `stop`, `poll`, `telemetry` and `close` live
here once (validation, state, idempotence, fail-safe on error); a driver implements `_apply`,
`_stop`, `_read` and `_close`, and may implement `_advance` (bring itself up to the clock's present
under the state in force, before any change) and `_heartbeat`. Commands are parametric (waveform +
intensity + expiry), never raw samples, so a sample-rendering backend (sim, sound card) and a
firmware that renders itself (serial) take the same command. Every command expires: without a
heartbeat, output goes to zero.

Faults a device detects itself (an expired command, a lost contact, a pulled cable) are recorded
with `_raise_fault` after output is already zero; `fault` holds the one that stopped the device
and `drain_faults` hands every recorded fault over exactly once (the supervisor reports them).

Every command to every backend passes one limit check here, before `_apply` is called
(`microamp.devices.enforce`): the layered amplitude constraint (hardware, profile, zone, and the
client and practitioner ceilings the command carries), the frequency range of the device and of
the profile, and the profile's r.m.s. current density. No driver keeps a copy; a sample renderer
asks `ceiling_ua` for the peak its output guard holds to. A driver refuses a command it cannot
carry besides (a coupling, a firmware's own limit) by raising `InvalidValue` from `_apply` before
it changes anything: the refusal propagates as is and the command in force stays in force.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Literal, NoReturn

from microamp.clock import Clock
from microamp.devices.enforce import check_command
from microamp.errors import DeviceError, DeviceURLError, InvalidValue
from microamp.safety.charge import ChargeAccount
from microamp.safety.commanded import CommandedCharge
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import LimitProfile
from microamp.stimulus.renderer import Renderer
from microamp.stimulus.waveform import Waveform

__all__ = ["Capabilities", "Command", "Device", "TelemetryFrame", "MAX_EXPIRY_S", "open_devices"]

# No command may live longer than this without renewal (DG-LAB wants a packet every 100 ms;
# 2 s leaves room for a busy host while bounding how long a hung one can leave current on).
MAX_EXPIRY_S = 2.0


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a device can do. ``sample_rate_hz`` is set where the host renders samples.

    ``current_step_ua`` is the smallest change of output current the stage can make (its DAC's
    step), 0 where it is as fine as a float: the lowest non-zero setting is one step.
    """

    backend: str
    max_current_ua: float
    compliance_v: float
    channels: int = 1
    electrode_area_cm2: float = 1.0
    sample_rate_hz: float | None = None
    coupling: Literal["dc", "ac"] = "dc"
    min_frequency_hz: float = 0.1
    max_frequency_hz: float = 2000.0
    model: str = ""
    current_step_ua: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Command:
    """Output ``waveform`` at ``intensity`` (0-1 of its amplitude) until renewed or expired.

    ``client_max_ua`` and ``practitioner_max_ua`` are ceilings the caller carries with the
    command (a client's comfort limit, a practitioner's setting); the device refuses a command
    above either, as it does one above its zone cap or profile.
    """

    waveform: Waveform
    intensity: float = 1.0
    expires_after_s: float = 0.5
    zone: str | None = None
    client_max_ua: float | None = None
    practitioner_max_ua: float | None = None

    def __post_init__(self) -> None:
        for name in ("client_max_ua", "practitioner_max_ua"):
            ceiling = getattr(self, name)
            if ceiling is not None and not (math.isfinite(ceiling) and ceiling >= 0.0):
                raise InvalidValue(name, ceiling, "a ceiling is a finite current, at least 0 µA")
        if not (math.isfinite(self.intensity) and 0.0 <= self.intensity <= 1.0):
            raise InvalidValue("intensity", self.intensity, "must be between 0 and 1")
        if not (math.isfinite(self.expires_after_s) and 0.0 < self.expires_after_s <= MAX_EXPIRY_S):
            raise InvalidValue(
                "expires_after_s",
                self.expires_after_s,
                f"every command expires: more than 0 and at most {MAX_EXPIRY_S:g} s",
            )

    @property
    def commanded_ua(self) -> float:
        return self.waveform.amplitude_ua * self.intensity


@dataclass(frozen=True, slots=True)
class TelemetryFrame:
    """One measurement over the ``window_s`` ending at ``t_s`` (device time, seconds).

    ``commanded_ua`` and ``delivered_ua`` are mean absolute currents over the window (so
    ``delivered_ua * window_s`` is the charge delivered, in µC), ``peak_ua`` the largest delivered
    current, ``voltage_v`` the largest output voltage magnitude, ``impedance_ohm`` the voltage
    needed per ampere (peak voltage over peak current; inf for an open circuit, nan while idle).
    ``flags`` name conditions: ``open_circuit``, ``compliance`` (the source reached its
    compliance voltage), ``unmeasured`` (the backend cannot measure its output).
    ``window_s`` is 0 where a backend does not report it. ``commanded_peak_ua`` is the largest
    commanded current in the window (0 where a backend does not report it): a short pulse has a
    small mean but is judged on its peak.
    """

    t_s: float
    commanded_ua: float
    delivered_ua: float
    peak_ua: float
    voltage_v: float
    impedance_ohm: float
    flags: frozenset[str] = field(default_factory=frozenset)
    window_s: float = 0.0
    commanded_peak_ua: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flags"] = sorted(self.flags)
        for name in ("impedance_ohm", "voltage_v"):
            value = getattr(self, name)
            data[name] = value if math.isfinite(value) else None
        return data

    @property
    def charge_uc(self) -> float:
        """Absolute charge delivered over the window, µC."""
        return self.delivered_ua * self.window_s


# Every device opened in this process and not yet closed: for an emergency stop of all output,
# and for tests that fail when a device is left open.
_OPEN_DEVICES: dict[int, Device] = {}


def open_devices() -> list[Device]:
    """Every device opened and not yet closed in this process, oldest first."""
    return list(_OPEN_DEVICES.values())


class Device(ABC):
    """A stimulator. Use as a context manager; `close` is idempotent and zeroes output first."""

    backend: ClassVar[str] = ""
    # The URL parameter a driver sets each capability from, where the user sets it (the sim's
    # ``step_ua``): a refusal over that capability names what the user wrote, as a URL error.
    url_parameters: ClassVar[Mapping[str, str]] = {}

    def __init__(self, clock: Clock, profile: LimitProfile) -> None:
        self.clock = clock
        self.profile = profile
        _OPEN_DEVICES[id(self)] = self
        self._closed = False
        self._command: Command | None = None
        self._expires_at_s: float | None = None
        self._fault: Fault | None = None
        self._fault_log: list[Fault] = []
        self._last_frame: TelemetryFrame | None = None
        # the host's net-charge account, for a backend that renders its own output (set by
        # its driver); sample-rendering drivers account every sample in their guard instead
        self.commanded_charge: CommandedCharge | None = None

    # -- the device's charge account, across openings -----------------------------------------

    @property
    def charge_account(self) -> ChargeAccount | None:
        """The device's net-charge account (None: this backend keeps none on the host)."""
        return self.commanded_charge.account if self.commanded_charge is not None else None

    def _set_charge_account(self, account: ChargeAccount) -> None:
        if self.commanded_charge is not None:
            self.commanded_charge.account = account

    def carry_charge(self, account: ChargeAccount) -> bool:
        """Count on ``account`` (this device's account from its last opening, by a process
        that owns it for longer than one session) instead of the fresh one opening gave it:
        the charge a previous session left stays within the limits of the next. Only before
        the first command, and only for an account on the same terms; whether it was taken."""
        own = self.charge_account
        if own is None or self._command is not None or not own.same_terms(account):
            return False
        self._set_charge_account(account)
        return True

    # -- what drivers provide ---------------------------------------------------------------

    @property
    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def _apply(self, command: Command) -> None:
        """Start (or change to) ``command``; the base class has checked it."""

    @abstractmethod
    def _stop(self) -> None:
        """Zero output now."""

    @abstractmethod
    def _read(self) -> list[TelemetryFrame]:
        """Bring the device up to ``clock.now()`` and return the frames produced since last call."""

    def _advance(self) -> None:
        """Bring the device up to ``clock.now()`` under the command in force (may raise faults)."""
        return None

    def _heartbeat(self) -> None:
        """Renew the present command (a firmware driver sends a heartbeat message)."""
        return None

    def _close(self) -> None:
        """Release the port, stream or thread."""
        return None

    # -- public API ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def command(self) -> Command | None:
        """The command in force, or None when output is stopped."""
        return self._command

    @property
    def fault(self) -> Fault | None:
        """The fault that stopped this device, if any (cleared by the next `apply`)."""
        return self._fault

    def apply(self, command: Command) -> None:
        """Start or change output. Raises `DeviceError` if closed, `InvalidValue` if refused.

        A command past any limit (see the module docstring), or one the driver cannot carry, is
        refused whole and changes nothing: the command in force stays in force.
        """
        self._check_open()
        try:
            check_command(command, self.profile, self.capabilities)
        except InvalidValue as refused:
            raise self._as_given(refused) from None
        self._guarded(self._advance)
        shadow = self._charge_check(command)
        try:
            self._apply(command)
        except InvalidValue:
            raise
        except Exception as exc:
            self._fail(exc)
        self._fault = None
        self._command = command
        self._expires_at_s = self.clock.now() + command.expires_after_s
        if shadow is not None and self.commanded_charge is not None:
            self.commanded_charge.start(shadow, self._expires_at_s)

    def _as_given(self, refused: InvalidValue) -> InvalidValue:
        """``refused`` named as the user gave it: a capability set in the URL, by its parameter."""
        parameter = self.url_parameters.get(refused.field)
        if parameter is None:
            return refused
        return DeviceURLError(parameter, refused.value, refused.rule)

    def heartbeat(self) -> None:
        """Renew the present command for another ``expires_after_s`` (nothing if none in force)."""
        self._check_open()
        self._guarded(self._advance)
        if self._command is None:
            return
        if not self._charge_renews(self._command):
            return
        self._expires_at_s = self.clock.now() + self._command.expires_after_s
        self._guarded(self._heartbeat)

    def stop(self) -> None:
        """Zero output now. Idempotent; safe on a closed or faulted device."""
        if self._closed:
            self._command = None
            self._expires_at_s = None
            return
        try:
            self._advance()
        finally:
            self._command = None
            self._expires_at_s = None
            self._stop()
            if self.commanded_charge is not None:
                self.commanded_charge.stop(self.clock.now())

    def poll(self) -> list[TelemetryFrame]:
        """Advance to the clock's present and return the new telemetry frames."""
        self._check_open()
        self._guarded(self._advance)
        frames: list[TelemetryFrame] = self._guarded(self._read)
        if frames:
            self._last_frame = frames[-1]
        return frames

    def telemetry(self) -> TelemetryFrame | None:
        """The latest telemetry frame seen by `poll`."""
        return self._last_frame

    def drain_faults(self) -> list[Fault]:
        """Every fault recorded since the last call, oldest first (each handed over once)."""
        faults, self._fault_log = self._fault_log, []
        return faults

    @property
    def expires_at_s(self) -> float | None:
        """Device time at which the present command lapses without a heartbeat."""
        return self._expires_at_s

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.stop()
        finally:
            self._closed = True
            _OPEN_DEVICES.pop(id(self), None)
            self._close()

    def __enter__(self) -> Device:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- for drivers --------------------------------------------------------------------------

    def _raise_fault(self, fault: Fault) -> None:
        """Record a fault the device detected itself; output must already be zero."""
        self._command = None
        self._expires_at_s = None
        if self.commanded_charge is not None:
            self.commanded_charge.stop(self.clock.now())
        self._fault_log.append(fault)
        if self._fault is None:
            self._fault = fault

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceError(f"the {self.backend} device is closed")

    def ceiling_ua(self, command: Command) -> float:
        """The most current ``command`` may reach on this device, over every limit layer (µA)."""
        return check_command(command, self.profile, self.capabilities)

    # -- the host's charge account (backends that render their own output) ------------------

    def _charge_check(self, command: Command) -> Renderer | None:
        """Refuse a command whose net charge would pass a limit before it expires."""
        if self.commanded_charge is None:
            return None
        return self.commanded_charge.check(
            command.waveform, command.intensity, command.expires_after_s, self.clock.now()
        )

    def _charge_renews(self, command: Command) -> bool:
        """Renew on the account; if renewing would pass a limit, stop output and record it."""
        account = self.commanded_charge
        if account is None or account.renew(self.clock.now(), command.expires_after_s):
            return True
        now = self.clock.now()
        self._guarded(self._stop)
        self._raise_fault(
            Fault.of(
                FaultCode.CHARGE_IMBALANCE,
                detected_t_s=now,
                zero_t_s=now,
                detail={"net_charge_uc": account.net_uc, "source": "host account"},
            )
        )
        return False

    def _guarded(self, hook: Any, *args: Any) -> Any:
        """Run a driver hook; on any error, zero output first, record the fault, then re-raise."""
        try:
            return hook(*args)
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> NoReturn:
        """Zero output, record a driver error (unless the driver recorded why), raise DeviceError."""
        try:
            self._stop()
        finally:
            self._raise_fault(
                Fault.of(
                    FaultCode.DRIVER_ERROR,
                    detected_t_s=self.clock.now(),
                    zero_t_s=self.clock.now(),
                    detail={"error": f"{type(exc).__name__}: {exc}"},
                )
            )
        if isinstance(exc, DeviceError):
            raise exc
        raise DeviceError(f"{self.backend} driver failed: {exc}") from exc
