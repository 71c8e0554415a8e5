"""Waveform synthesis and measurement: pure NumPy, no I/O."""

from microamp.stimulus.metrics import SignalMetrics, measure
from microamp.stimulus.renderer import Block, Envelope, Renderer, render_steady
from microamp.stimulus.waveform import POLARITIES, SHAPES, Polarity, Shape, Waveform

__all__ = [
    "POLARITIES",
    "SHAPES",
    "Block",
    "Envelope",
    "Polarity",
    "Renderer",
    "Shape",
    "SignalMetrics",
    "Waveform",
    "measure",
    "render_steady",
]
