"""Photos of one view registered to the first: the similarity transform (scale, rotation,
translation) that best carries one photo's landmarks onto the other's (Umeyama's least
squares), from points that expression barely moves (eye corners, nose, forehead, the face's
outline at ear level), so a smile does not skew the registration."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["STABLE_POINTS", "Similarity", "similarity"]

STABLE_POINTS = (33, 133, 263, 362, 168, 6, 197, 195, 4, 1, 10, 151, 9, 234, 454, 127, 356)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Similarity:
    """x' = scale * R(rotation) x + (tx, ty), in pixels."""

    scale: float
    rotation_deg: float
    tx_px: float
    ty_px: float

    def matrix(self) -> FloatArray:
        """The 2 x 3 affine matrix."""
        angle = math.radians(self.rotation_deg)
        a, b = self.scale * math.cos(angle), self.scale * math.sin(angle)
        return np.array([[a, -b, self.tx_px], [b, a, self.ty_px]])

    def inverse(self) -> Similarity:
        angle = -math.radians(self.rotation_deg)
        scale = 1 / self.scale
        cos, sin = math.cos(angle), math.sin(angle)
        tx = -scale * (cos * self.tx_px - sin * self.ty_px)
        ty = -scale * (sin * self.tx_px + cos * self.ty_px)
        return Similarity(scale, math.degrees(angle), tx, ty)

    def apply(self, xy: FloatArray) -> FloatArray:
        m = self.matrix()
        return np.asarray(xy @ m[:, :2].T + m[:, 2], dtype=np.float64)


def similarity(source: FloatArray, target: FloatArray) -> Similarity:
    """The similarity carrying ``source`` points (N x 2) onto ``target`` (N x 2)."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1  # a reflection is not a pose change: keep it a rotation
    rotation = u @ np.diag(sign) @ vt
    variance = float((src_c**2).sum() / len(src))
    scale = float((singular * sign).sum() / variance)
    translation = dst_mean - scale * rotation @ src_mean
    angle = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return Similarity(scale, angle, float(translation[0]), float(translation[1]))
