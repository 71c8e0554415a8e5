"""Drawings for people: waveform plots, face maps, telemetry charts (matplotlib and SVG)."""
