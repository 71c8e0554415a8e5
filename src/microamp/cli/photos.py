"""`microamp photos`: a progress photo measured in millimetres (brows, eyes, mouth corners,
jaw), with the head's pose and a quality score; needs ``microamp[vision]``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from microamp.cli.common import EXIT_FAILED, JsonOpt, bad_input, console, print_error, print_json
from microamp.errors import InvalidValue, NoFace, VisionUnavailable

app = typer.Typer(help="Progress photos measured.", no_args_is_help=True)

_LABELS = {
    "brow_height_left_mm": "Brow height, left (mm)",
    "brow_height_right_mm": "Brow height, right (mm)",
    "palpebral_fissure_left_mm": "Eye opening, left (mm)",
    "palpebral_fissure_right_mm": "Eye opening, right (mm)",
    "commissure_height_left_mm": "Mouth corner below pupils, left (mm)",
    "commissure_height_right_mm": "Mouth corner below pupils, right (mm)",
    "lower_face_width_mm": "Lower-face width (mm)",
}


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InvalidValue("file", str(file), f"must be a readable file ({exc.strerror})") from None


@contextmanager
def _native_logs_quiet() -> Iterator[None]:
    """The model's C++ side writes its start-up notes straight to file descriptor 2; the
    command's own errors follow it, alone, once the model has run."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _render(document: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{document['view']} view, scaled by the {document['scale']['source']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in document["measures"].items():
        table.add_row(_LABELS.get(name, name.replace("_", " ")), f"{value:g}")
    pose = document["pose"]
    table.add_row("Pose: yaw / pitch / roll (deg)",
                  f"{pose['yaw_deg']:g} / {pose['pitch_deg']:g} / {pose['roll_deg']:g}")  # fmt: skip
    table.add_row("Quality (0-1)", f"{document['quality']:g}")
    console.print(table)
    for flag in document["flags"]:
        console.print(f"not comparable: {flag}", highlight=False)


@app.command()
def measure(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A JPEG or PNG photo of a face.")],
    view: Annotated[
        str, typer.Option("--view", help="front, left45 or right45: the pose it is judged by.")
    ] = "front",
    json_out: JsonOpt = False,
) -> None:
    """Measure a face photo: brow height, eye opening, mouth-corner height, lower-face width,
    jaw angle and jowl depth in millimetres (scaled by the iris), symmetry, head pose, quality.
    Exits 1 when no face is found, 2 when the file is not a JPEG or PNG image."""
    from microamp.store.photos import open_photo
    from microamp.vision.measures import check_view
    from microamp.vision.photo import measure_image

    try:
        check_view(view)
        data = _read(file)
        try:
            image, _ = open_photo(data)
        except InvalidValue as exc:  # the option is FILE, not the web form's "photo"
            raise InvalidValue("file", str(file), exc.rule) from None
        with _native_logs_quiet():
            measurement, _landmarks = measure_image(image, view=view)
    except InvalidValue as exc:
        bad_input(exc, as_option=exc.field != "file")
    except (NoFace, VisionUnavailable) as exc:
        print_error(f"{file}: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    document = measurement.as_dict()
    if json_out:
        print_json(document)
        return
    _render(document)
