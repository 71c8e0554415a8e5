"""The PDF copy of a form signed before the visit: the answers, the consent text under its
version, the signature (drawn, or typed with the box ticked) and the photo-use choice; and the
PDF copy of a consent signed in the clinic by typing the name (for her own export).

Written with fpdf2 in DejaVu Sans (the font matplotlib ships), so every name prints as typed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from microamp.clinic.consent import ConsentText
from microamp.clinic.questions import QUESTIONS

__all__ = ["signed_form_pdf", "typed_consent_pdf"]


@cache
def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _answer(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    return "never" if value is None else str(value)


_Line = Callable[..., None]


def _document(title: str) -> tuple[Any, _Line]:
    """An A4 document in DejaVu Sans and its ``line(text, size=, bold=, gap=)`` writer."""
    from fpdf import FPDF  # imported when a document is made, not by every command
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("microamp")
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: float = 10, bold: bool = False, gap: float = 1) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(width, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    return pdf, line


def signed_form_pdf(
    *,
    full_name: str,
    answers: Mapping[str, Any],
    consent: ConsentText,
    typed_name: str,
    drawn_signature: bytes | None,
    photo_consent: bool,
    signed_at: datetime,
) -> bytes:
    """The signed form as PDF bytes."""
    pdf, line = _document(f"Pre-visit form: {full_name}")
    width = pdf.epw
    line(f"Pre-visit form: {full_name}", size=16, bold=True, gap=3)
    line(f"Signed {signed_at.strftime('%d %B %Y, %H:%M UTC')}", gap=4)
    line("Health questions", size=12, bold=True)
    line(f"Date of birth: {answers['date_of_birth']}")
    for key, question in QUESTIONS.items():
        line(f"{question}: {_answer(answers[key])}")
    pdf.ln(3)
    line(f"{consent.title} (version {consent.version})", size=12, bold=True)
    line(consent.text, gap=4)
    line("Signature", size=12, bold=True)
    if drawn_signature is not None:
        pdf.image(io.BytesIO(drawn_signature), w=min(width, 90))
        line(f"Drawn by {typed_name}.")
    else:
        line(f"Signed by typing the full name: {typed_name}, with the box ticked to sign so.")
    pdf.ln(2)
    line("Photographs", size=12, bold=True)
    line("The client agrees that progress photographs may be taken and kept with her record."
         if photo_consent else "The client did not agree to progress photographs.")  # fmt: skip
    return bytes(pdf.output())


def typed_consent_pdf(
    *,
    full_name: str,
    text_version: str,
    consent: ConsentText | None,
    typed_name: str,
    signed_at: datetime,
) -> bytes:
    """A consent signed in the clinic by typing the name, as PDF bytes: the wording of its
    version (``consent`` None when that wording is no longer on file) and the typed name."""
    pdf, line = _document(f"Consent: {full_name}")
    title = consent.title if consent is not None else "Consent"
    line(f"{title} (version {text_version})", size=16, bold=True, gap=3)
    line(f"Signed {signed_at.strftime('%d %B %Y, %H:%M UTC')}", gap=4)
    line(consent.text if consent is not None else "The wording of this version is no longer on "
         "file; the signature below is as it was recorded.", gap=4)  # fmt: skip
    line("Signature", size=12, bold=True)
    line(f"Signed by typing the full name: {typed_name}")
    return bytes(pdf.output())
