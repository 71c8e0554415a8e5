"""Real face photographs that a registry package ships (scikit-image's astronaut, Eileen
Collins's NASA portrait, public domain), and known transforms of them: a similarity (scale,
rotation, translation), one brow raised by a known number of pixels, the head turned about its
vertical axis, a photo with no face."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import data, transform

from microamp.vision.landmarks import FaceLandmarks


def astronaut(scale: float = 2.0) -> Image.Image:
    """The astronaut portrait, upscaled by ``scale`` (512 px is small: her iris is 8 px)."""
    image = Image.fromarray(data.astronaut())
    if scale == 1:
        return image
    size = round(image.width * scale), round(image.height * scale)
    return image.resize(size, Image.Resampling.BICUBIC)


def jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def similar(
    image: Image.Image, *, scale: float, rotation_deg: float, shift_px: tuple[float, float]
) -> Image.Image:
    """``image`` scaled about its centre, turned by ``rotation_deg`` (anticlockwise) and moved
    by ``shift_px``, on a canvas of the same size."""
    cx, cy = image.width / 2, image.height / 2
    angle = math.radians(rotation_deg)
    a, b = scale * math.cos(angle), scale * math.sin(angle)
    # forward: x' = a x + b y + tx', y' = -b x + a y + ty' (image y runs down); PIL wants inverse
    forward = np.array([[a, b, 0.0], [-b, a, 0.0], [0.0, 0.0, 1.0]])
    centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    back = np.array([[1, 0, cx + shift_px[0]], [0, 1, cy + shift_px[1]], [0, 0, 1]])
    inverse = np.linalg.inv(back @ forward @ centre)
    coefficients = tuple(inverse[:2].ravel())
    return image.transform(
        image.size, Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BICUBIC
    )


def raise_brow(
    image: Image.Image, landmarks: FaceLandmarks, *, side: str, lift_px: float
) -> Image.Image:
    """The brow on the subject's ``side`` moved up by ``lift_px``, the eye below left where it
    was: full lift above the brow, fading to none by the upper lid, across the brow's width."""
    xy = landmarks.xy()
    brow, lid = ((105, 66, 70, 107), 159) if side == "right" else ((334, 296, 300, 336), 386)
    brow_xy = xy[list(brow)]
    centre_x = float(brow_xy[:, 0].mean())
    half_width = float(np.ptp(brow_xy[:, 0])) * 1.6
    brow_bottom_y = float(brow_xy[:, 1].max())
    gap = float(xy[lid, 1]) - brow_bottom_y  # brow to upper lid: the skin that stretches
    brow_low_y = brow_bottom_y + 0.45 * gap
    lid_y = brow_bottom_y + 0.9 * gap
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64) / 255
    rows, cols = np.mgrid[0 : image.height, 0 : image.width].astype(np.float64)
    across = np.clip(1 - np.abs(cols - centre_x) / half_width, 0, 1)
    across = across * across * (3 - 2 * across)  # smoothstep: no seam at the brow's ends
    down = np.clip((lid_y - rows) / max(1.0, lid_y - brow_low_y), 0, 1)
    shift = lift_px * across * down  # an output pixel takes its colour from `shift` px below

    warped = np.stack(
        [
            ndimage.map_coordinates(
                pixels[..., channel], [rows + shift, cols], order=3, mode="nearest"
            )
            for channel in range(3)
        ],
        axis=-1,
    )
    return Image.fromarray((warped.clip(0, 1) * 255).round().astype(np.uint8))


def turn_head(image: Image.Image, landmarks: FaceLandmarks, *, yaw_deg: float) -> Image.Image:
    """The face turned about its vertical axis by ``yaw_deg``: every landmark rotated in 3D by
    the depth the mesh gives it and projected back, the pixels carried along piecewise."""
    points = landmarks.points
    centre = points[[234, 454, 10, 152]].mean(axis=0)
    angle = math.radians(yaw_deg)
    cos, sin = math.cos(angle), math.sin(angle)
    x, z = points[:, 0] - centre[0], points[:, 2] - centre[2]
    turned = points[:, :2].copy()
    turned[:, 0] = centre[0] + cos * x + sin * z
    w, h = image.width - 1, image.height - 1
    frame = np.array(
        [[0, 0], [w, 0], [w, h], [0, h], [w / 2, 0], [w / 2, h], [0, h / 2], [w, h / 2]], float
    )
    source = np.vstack([points[:468, :2], frame])
    target = np.vstack([turned[:468], frame])
    piecewise = transform.PiecewiseAffineTransform.from_estimate(target, source)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64) / 255
    warped = transform.warp(pixels, piecewise, order=1, mode="edge")
    return Image.fromarray((warped.clip(0, 1) * 255).round().astype(np.uint8))


def no_face(size_px: tuple[int, int] = (640, 480)) -> Image.Image:
    """A real photograph with no face in it: scikit-image's coffee cup, scaled."""
    return Image.fromarray(data.coffee()).resize(size_px, Image.Resampling.BICUBIC)


def y4m(image: Image.Image, frames: int = 2) -> bytes:
    """``image`` as a YUV4MPEG2 video (4:2:0, BT.601 full range) of ``frames`` still frames:
    what chromium plays as its fake camera."""
    rgb = image.convert("RGB")
    width, height = rgb.width // 2 * 2, rgb.height // 2 * 2
    ycbcr = np.asarray(rgb.crop((0, 0, width, height)).convert("YCbCr"), dtype=np.uint8)
    luma = ycbcr[..., 0].tobytes()
    chroma = [
        ycbcr[..., channel]
        .reshape(height // 2, 2, width // 2, 2)
        .mean(axis=(1, 3))
        .round()
        .astype(np.uint8)
        .tobytes()
        for channel in (1, 2)
    ]
    header = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode("ascii")
    frame = b"FRAME\n" + luma + chroma[0] + chroma[1]
    return header + frame * frames


def with_sticker(
    image: Image.Image,
    centre_px: tuple[float, float],
    side_px: float,
    bits: tuple[tuple[int, ...], ...],
) -> Image.Image:
    """``image`` with a calibration sticker on it: a black square ``side_px`` across (a
    one-module border around the ``bits`` pattern, 1 white) on a white margin of one module,
    centred on ``centre_px``, drawn at 8 x and scaled down so its edges blur as a camera's do."""
    supersample = 8
    modules = len(bits) + 2
    module_px = side_px / modules
    cut_px = side_px + 2 * module_px
    pattern = np.zeros((modules + 2, modules + 2), dtype=np.uint8)
    pattern[0, :] = pattern[-1, :] = pattern[:, 0] = pattern[:, -1] = 255  # the margin
    pattern[2:-2, 2:-2] = np.asarray(bits, dtype=np.uint8) * 255
    left, top = centre_px[0] - cut_px / 2, centre_px[1] - cut_px / 2
    # a patch of whole pixels holding the sticker, drawn large and scaled down to them
    x0, y0 = math.floor(left) - 1, math.floor(top) - 1
    size = math.ceil(cut_px) + 3
    big = Image.new("L", (size * supersample, size * supersample), 0)
    drawn = Image.fromarray(pattern).resize(
        (round(cut_px * supersample),) * 2, Image.Resampling.NEAREST
    )
    offset = (round((left - x0) * supersample), round((top - y0) * supersample))
    mask = Image.new("L", big.size, 0)
    mask.paste(255, (*offset, offset[0] + drawn.width, offset[1] + drawn.height))
    big.paste(drawn, offset)
    small = big.resize((size, size), Image.Resampling.BOX)
    coverage = mask.resize((size, size), Image.Resampling.BOX)
    out = image.convert("RGB").copy()
    patch = out.crop((x0, y0, x0 + size, y0 + size))
    out.paste(Image.composite(small.convert("RGB"), patch, coverage), (x0, y0))
    return out


def wearing_sticker(
    image: Image.Image,
    landmarks: FaceLandmarks,
    *,
    side_px: float,
    bits: tuple[tuple[int, ...], ...] | None = None,
) -> Image.Image:
    """``image`` with the calibration sticker (or another marker's ``bits``) ``side_px`` across,
    midway up the forehead, clear of the brows, where the client wears it."""
    from microamp.vision.sticker import STICKER_BITS

    xy = landmarks.xy()
    centre = (xy[151] + xy[10]) / 2
    return with_sticker(image, (float(centre[0]), float(centre[1])), side_px, bits or STICKER_BITS)
