"""Contact loss and compliance are judged on the samples where current was commanded, so short
pulses, low duty, low frequencies and bursts are watched as closely as a steady current."""

from __future__ import annotations

from devices.helpers import supervised_sim_run
from microamp.safety import FaultCode
from microamp.stimulus import Waveform

SHORT_PULSE = Waveform(
    shape="pulse", amplitude_ua=300.0, frequency_hz=100.0, phase_us=300.0, polarity="biphasic"
)


def test_a_lifted_probe_under_short_biphasic_pulses_trips_within_a_millisecond() -> None:
    run = supervised_sim_run("sim://?load=gel&fault=contact-loss@2", SHORT_PULSE, duration_s=3.0)
    assert [f.code for f in run.faults] == [FaultCode.CONTACT_LOST]
    fault = run.faults[0]
    assert fault.onset_t_s is not None and fault.zero_t_s is not None
    assert 2.0 <= fault.onset_t_s < 2.0 + SHORT_PULSE.period_s
    assert fault.zero_t_s - fault.onset_t_s <= 1e-3
