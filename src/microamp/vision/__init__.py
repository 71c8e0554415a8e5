"""Measured results: face landmarks from a photo, measures in millimetres, photos registered
to one another. The landmark model is the optional extra ``microamp[vision]``."""
