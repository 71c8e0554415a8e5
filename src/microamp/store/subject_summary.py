"""The summary page of a person's export (``index.html``): her record for a person to read.

One HTML file with its style inline, no script and nothing fetched from outside the archive: the
photos and charts it shows, and the consent documents it links to, are the archive's own files.
Headings in order, a language, a caption on every table; it fits a phone's width.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["summary_html"]

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; color: #1d2b2f; margin: 0 auto; max-width: 60rem;
       padding: 1rem; overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #b7c4c1; padding: .25rem .4rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; }
dl { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; }
"""
# the dose figures a session's table shows: (the record's key, column heading)
_DOSE_COLUMNS = (
    ("charge_uc", "Charge (µC)"),
    ("mean_current_ua", "Mean current (µA)"),
    ("stimulation_s", "Time (s)"),
    ("mean_impedance_ohm", "Mean impedance (Ω)"),
)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return escape(", ".join(str(v) for v in value)) if value else "none"
    return escape(str(value))


class _Num(str):
    """A table cell that is a number, set right-aligned."""

    __slots__ = ()


def _number(value: Any) -> _Num:
    return _Num("—" if value is None else escape(f"{float(value):g}"))


def _table(caption: str, headings: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table; ``rows`` hold markup already escaped, a `_Num` cell is a number."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headings)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{cell}</td>' if isinstance(cell, _Num) else f"<td>{cell}</td>"
            for cell in row
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return f"<p>{escape(caption)}: none.</p>"
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _details(client: Mapping[str, Any]) -> str:
    fields = (
        ("Name", client["full_name"]),
        ("Date of birth", client["date_of_birth"]),
        ("Email", client["email"]),
        ("Phone", client["phone"]),
        ("Skin type (Fitzpatrick)", client["fitzpatrick_type"]),
        ("Concerns", client["concerns"]),
        ("Allergies", client["allergies"]),
        ("Medications", client["medications"]),
        ("Notes", client["notes"]),
        ("Client since", client["created_at"]),
    )
    items = "".join(f"<dt>{escape(k)}</dt><dd>{_text(v)}</dd>" for k, v in fields)
    return f"<h2>Your details</h2><dl>{items}</dl>"


def _screenings(versions: Sequence[Mapping[str, Any]]) -> str:
    rows = (
        [_number(v["version"]), _text(v["screened_on"]), _text(v["outcome"]), _text(v["reasons"])]
        for v in versions
    )
    return "<h2>Health questions</h2>" + _table(
        "Every version of your intake form, the first first",
        ("Version", "Answered on", "Outcome", "Reasons"),
        rows,
    )


def _consents(consents: Sequence[Mapping[str, Any]], files: Mapping[int, str]) -> str:
    rows = []
    for c in consents:
        file = files.get(c["id"])
        link = f'<a href="{escape(file)}">signed document (PDF)</a>' if file else "—"
        rows.append([_text(c["text_version"]), _text(c["signed_at"]), _text(c["typed_signature"]),
                     link])  # fmt: skip
    return "<h2>Consents</h2>" + _table(
        "The consents you signed", ("Version", "Signed at", "Signed as", "Document"), rows
    )


def _appointments(appointments: Sequence[Mapping[str, Any]]) -> str:
    rows = (
        [_text(a["on_date"]), _text(a["starts_at"]), _text(a["service"]), _text(a["state"])]
        for a in appointments
    )
    return "<h2>Appointments</h2>" + _table(
        "Your visits and planned sessions", ("Day", "Starts", "Service", "State"), rows
    )


def _plans(plans: Sequence[Mapping[str, Any]]) -> str:
    rows = (
        [_text(p["template"]), _text(p["protocol_name"]), _text(p["start_date"]),
         _number(p['months'])]
        for p in plans
    )  # fmt: skip
    return "<h2>Course plans</h2>" + _table(
        "Your course plans", ("Plan", "Protocol", "Starts", "Months"), rows
    )


def _session(record: Mapping[str, Any], chart: str | None) -> str:
    dose = record.get("dose_by_zone") or {}
    rows = (
        [_text(zone), *(_number(figures.get(key)) for key, _ in _DOSE_COLUMNS)]
        for zone, figures in dose.items()
        if isinstance(figures, dict)
    )
    out = [
        f"<h3>Session {record['id']}, {_text(record['started_at'])}</h3>",
        f"<p>Protocol {_text(record['protocol']['name'])}; status {_text(record['status'])}.</p>",
        _table(
            f"What the device delivered in session {record['id']}, by zone",
            ("Zone", *(heading for _, heading in _DOSE_COLUMNS)),
            rows,
        ),  # fmt: skip
    ]
    if chart is not None:
        out.append(
            f'<img src="{escape(chart)}" width="720" height="220" alt="Chart of session '
            f'{record["id"]}: peak and mean delivered current and impedance over time">'
        )
    return "".join(out)


def _sessions(sessions: Sequence[Mapping[str, Any]], charts: Mapping[int, str]) -> str:
    if not sessions:
        return "<h2>Sessions</h2><p>No sessions.</p>"
    return "<h2>Sessions</h2>" + "".join(_session(s, charts.get(s["id"])) for s in sessions)


def _photos(photos: Sequence[Mapping[str, Any]]) -> str:
    out = ["<h2>Photos and their measures</h2>"]
    for p in photos:
        label = f"Photo of {p['taken_on']}" + (f", {p['view']} view" if p["view"] else "")
        out.append(f"<h3>{escape(label)}</h3>")
        if p["photo_file"]:
            out.append(f'<img src="{escape(p["photo_file"])}" alt="{escape(label)}">')
        measures = (p.get("measurement") or {}).get("measures") or {}
        out.append(_table(f"Measures of the {label.lower()}", ("Measure", "Value"),
                          ([_text(k), _number(v)] for k, v in measures.items())))  # fmt: skip
    if len(out) == 1:
        out.append("<p>No photos.</p>")
    return "".join(out)


def _files(files: Sequence[str]) -> str:
    items = "".join(f'<li><a href="{escape(f)}">{escape(f)}</a></li>' for f in files)
    return f"<h2>Files in this archive</h2><ul>{items}</ul>"


def summary_html(
    record: Mapping[str, Any],
    files: Sequence[str],
    charts: Mapping[int, str],
    consents: Mapping[int, str],
) -> str:
    """The summary page of ``record`` (`microamp.store.subject_export.person_record`);
    ``files`` the archive's other files, ``charts`` and ``consents`` the file of each session's
    chart and each consent's document."""
    client = record["client"]
    title = f"Your record at the clinic: {client['full_name']}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Everything the clinic holds on you, exported {_text(record.get('exported_at'))}. "
        'The full record is in <a href="record.json">record.json</a>, and in the health-record '
        'standard FHIR in <a href="fhir-bundle.json">fhir-bundle.json</a>.</p>'
        + _details(client)
        + _screenings(record["screenings"])
        + _consents(record["consents"], consents)
        + _plans(record["plans"])
        + _appointments(record["appointments"])
        + _sessions(record["sessions"], charts)
        + _photos(record["photos"])
        + _files(files)
        + "</main></body></html>\n"
    )
