"""The README's figure tables, rendered from one bench document.

    python -m bench.report                 # from .bench/latest.json
    python -m bench.report .bench/quick.json

Every figure the README quotes comes out of this module, and the test suite renders it from a
`python -m bench --quick` run and checks that the README carries every row it renders: a
renamed bench key, or a README row with no figure behind it, fails the tests.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Row = tuple[str, str]


def _n(value: float, digits: int = 2) -> str:
    """A figure with about ``digits`` significant digits, thousands separated."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}" if value >= 1 else f"{value:.{digits}f}"


def _x(value: float) -> str:
    return f"{_n(value)} ×"


def performance_rows(doc: dict[str, Any]) -> Iterator[Row]:
    engine, sim, sessions = doc["engine"], doc["simulator"], doc["sessions"]
    records, startup = doc["records"], doc["startup"]
    by_block = engine["speedup_over_python_by_block"]
    yield (
        "engine: renderer + output guard at 20 kHz in 1 ms blocks, cost per block",
        f"{engine['block_cost_us']:.1f} µs, {engine['block_cost_fraction_of_duration'] * 100:.2f} %"
        f" of the block's duration (goal: under {engine['goal_fraction'] * 100:g} %)",
    )
    yield (
        "engine against a NumPy floor (`np.copyto` of an equal block)",
        f"{_x(engine['ratio_to_numpy_floor'])} the floor",
    )
    yield (
        "engine against a per-sample Python generator, 1 / 10 / 100 ms blocks",
        " / ".join(_x(by_block[k]) for k in ("1ms", "10ms", "100ms")) + " faster",
    )
    yield (
        "simulator at 20 kHz, polled every 100 ms / supervised at 10 ms ticks",
        f"{_x(sim['x_real_time_100ms_polls'])} / {_x(sim['x_real_time_supervised_10ms_ticks'])}"
        " real time",
    )
    load = doc["load_model"]
    yield (
        "electrode-skin load alone at 20 kHz, constant-phase (gel) / earlier RC, 10 ms blocks",
        f"{_x(load['cpe_x_real_time_10ms_blocks'])} / {_x(load['rc_x_real_time_10ms_blocks'])}"
        " real time",
    )
    yield (
        "electrode-skin load alone at 20 kHz, constant-phase (gel) / earlier RC, 100 ms blocks",
        f"{_x(load['cpe_x_real_time_100ms_blocks'])} / {_x(load['rc_x_real_time_100ms_blocks'])}"
        " real time",
    )
    characterized = doc["characterize"]
    yield (
        "`microamp characterize sim://`: 4 waveform families into 5 loads, lowest setting, faults",
        f"{characterized['wall_s']:.2f} s wall for {characterized['waveform_load_pairs']} pairs",
    )
    yield (
        "`microamp characterize serial://` on the firmware emulator: 4 waveform families into "
        "its one load, lowest setting, silent host",
        f"{characterized['serial_wall_s']:.1f} s wall (the device runs on the wall clock and "
        "its own 1 s start ramp is waited out)",
    )
    yield (
        "a 60-minute protocol in simulated time",
        f"{sessions['wall_s']:.1f} s wall, {_x(sessions['x_real_time'])} real time",
    )
    pg = records["postgresql"].get("events_per_s")
    yield (
        "session events written per second, SQLite / PostgreSQL",
        f"{records['sqlite']['events_per_s']:,} / {f'{pg:,}' if pg else 'not measured'}",
    )
    telemetry = records["telemetry_60min"]
    yield (
        "stored telemetry of a 60-minute session",
        f"{telemetry['bytes'] / 1000:,.0f} kB (downsampled to {telemetry['telemetry_hz']:g}"
        " rows/s, compressed)",
    )
    yield from upload_rows(doc["uploads"])
    yield from photo_storage_rows(doc["photo_storage"])
    yield from vision_rows(doc["vision"])
    yield from audit_ratio_rows(doc)
    yield from station_rows(doc["stations"])
    yield from home_rows(doc["home"])

    yield from cluster_rows(doc["cluster"])
    yield from clinic_rows(doc["clinic"])
    yield from slots_rows(doc["slots"])
    yield token_read_row(doc["session_lookup"])
    yield mail_row(doc["mail"])
    yield chain_check_row(doc["audit_chain_check"])
    yield fhir_row(doc["fhir"])
    yield fhir_load_row(doc["fhir"])
    yield (
        "`microamp --help`",
        f"{startup['microamp_help_wall_s']:.2f} s (heavy libraries load only when used)",
    )


def station_rows(stations: dict[str, Any]) -> Iterator[Row]:
    """A control through the store to its station and back, and Stop to the session's end."""
    for kind in ("sqlite", "postgresql"):
        figures = stations.get(kind, {})
        if "control_answered" not in figures:
            continue
        control, stop = figures["control_answered"], figures["stop_to_end"]
        name = "SQLite" if kind == "sqlite" else "PostgreSQL"
        yield (
            f"pause or resume answered by the station, {name}",
            f"p50 {control['p50_ms']:.0f} ms, p95 {control['p95_ms']:.0f} ms (written, taken,"
            " in force in the runner's state, published)",
        )
        received = figures.get("stop_received_to_zero")
        if received is not None:
            yield (
                f"Stop received by the station to zero output, {name}",
                f"p50 {received['p50_ms']:.1f} ms, p95 {received['p95_ms']:.1f} ms, p99"
                f" {received['p99_ms']:.1f} ms ({received['n']} stops; the Stop wakes the"
                " session's tick; goal: under 50 ms)",
            )
        yield (
            f"Stop to the session's end at the station, {name}",
            f"p50 {stop['p50_ms']:.0f} ms, p95 {stop['p95_ms']:.0f} ms (output zero, device"
            " closed, record closed, lease released)",
        )


def home_rows(home: dict[str, Any]) -> Iterator[Row]:
    """The home app's first load on a phone, and guide mode's cue timing in chromium."""
    for name, label in (("today", "today page"), ("guide", "guide page")):
        load = home["first_load"][name]
        yield (
            f"home app first load, {label} (HTML + CSS + JS, gzip), local server",
            f"{load['compressed_kb']:.1f} kB ({load['uncompressed_kb']:.0f} kB uncompressed),"
            f" p50 {load['p50_ms']:.0f} ms, p95 {load['p95_ms']:.0f} ms",
        )
    cues = home["cue_timing"]
    if "seen_late_p99_ms" in cues:
        value = (
            f"p50 {cues['seen_late_p50_ms']:.1f} ms, p99 {cues['seen_late_p99_ms']:.1f} ms,"
            f" max {cues['seen_late_max_ms']:.1f} ms over {cues['heard']} cues of"
            f" {cues['routine']} ({cues['wall_s'] / 60:.1f} min); each scheduled at least"
            f" {cues['lead_min_ms']:.0f} ms ahead (goal: p99 under 50 ms)"
        )
    else:
        value = f"not measured ({cues.get('skipped') or 'audio ' + str(cues.get('audio'))})"
    yield ("guide mode's cues, lateness seen from the page on the audio clock, chromium", value)


def cluster_rows(cluster: dict[str, Any]) -> Iterator[Row]:
    """The clinic layout under load: Stop to zero, event to browser, real time, pages/s."""
    if "stop_to_zero" not in cluster:
        return
    stop, event = cluster["stop_to_zero"], cluster["event_to_browser"]
    under = f"{cluster['workers']} workers, {cluster['clients']} page clients: "
    yield (
        "Stop (POST through any worker) to zero output at the station, under page load, PostgreSQL",
        f"{under}p50 {stop['p50_ms']:.0f} ms, p95 {stop['p95_ms']:.0f} ms, p99 {stop['p99_ms']:.0f} ms"
        f" ({stop['n']} stops, from the first press; {cluster['failed_stop_presses']} presses"
        f" failed and were pressed again, {cluster['failed_controls']} pauses or resumes failed)",
    )
    received = cluster.get("stop_received_to_zero")
    if received is not None:
        yield (
            "Stop received by the station to zero output, under page load, PostgreSQL",
            f"{under}p50 {received['p50_ms']:.1f} ms, p95 {received['p95_ms']:.1f} ms, p99"
            f" {received['p99_ms']:.1f} ms ({received['n']} stops; goal: under 50 ms)",
        )
    yield (
        "a device event to the browser's live stream (SSE), under page load, PostgreSQL",
        f"{under}p50 {event['p50_ms']:.0f} ms, p95 {event['p95_ms']:.0f} ms, p99 {event['p99_ms']:.0f}"
        f" ms ({event['n']} events)",
    )
    yield (
        "the simulated session's real-time ratio, under page load, PostgreSQL",
        f"{under}{cluster['real_time_ratio_mean']:.2f}x mean, {cluster['real_time_ratio_min']:.2f}x"
        " lowest",
    )
    curve = cluster["pages_per_s"]
    if curve:
        yield (
            "pages per second with 1 / 2 / 4 workers, the page clients in their own process,"
            " PostgreSQL",
            " / ".join(f"{curve[n]:,.1f}" for n in ("1", "2", "4"))
            + f" ({cluster['clients']} clients, {cluster.get('pages_window_s', 5.0):.0f} s each)",
        )


CLINIC_PAGES = (
    ("day_view", "the day view (/book) of a full day"),
    ("client_search", "the client search (/clients?q=, a surname)"),
    ("client_page", "a client page with a long history"),
)


def clinic_rows(clinic: dict[str, Any]) -> Iterator[Row]:
    """The big clinic seeded, and each page's p95 on it against the same page on the small
    clinic (the rows it shows, nothing else) and on the empty one, per database."""
    size = (f"{clinic['clients']:,} clients, {clinic['appointments']:,} visits,"
            f" {clinic['records']:,} session records")  # fmt: skip
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        figures = clinic.get(kind, {})
        if "big" not in figures:
            continue
        big, small, empty = figures["big"], figures["small"], figures["empty"]
        yield (
            f"the big clinic seeded in bulk, {name}",
            f"{big['seed_s']:.0f} s for {size} (clients {big['clients_s']:.1f} s, visits"
            f" {big['appointments_s']:.0f} s, records with their events and telemetry"
            f" {big['records_s']:.0f} s)",
        )
        for page, label in CLINIC_PAGES:
            yield (
                f"{label}, big clinic against the same page on a small one, p95 under load, {name}",
                f"{clinic['concurrency']} clients: p95 {big[page]['p95_ms']:,.0f} ms against"
                f" {small[page]['p95_ms']:,.0f} ms:"
                f" {figures['p95_ratio'][page]:.2f} × (goal: at most {clinic['goal_ratio']:g} ×);"
                f" p50 {big[page]['p50_ms']:,.0f} / {small[page]['p50_ms']:,.0f} ms; on the empty"
                f" clinic p95 {empty[page]['p95_ms']:,.0f} ms"
                f" ({figures['p95_ratio_to_empty'][page]:.2f} ×)",
            )


def slots_rows(slots: dict[str, Any]) -> Iterator[Row]:
    """A month of one service's free slots on a full book against an empty one, per database."""
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        figures = slots.get(kind, {})
        if "full" not in figures:
            continue
        full, empty = figures["full"], figures["empty"]
        yield (
            f"a month of free slots for one service (online booking), {slots['rooms']} rooms,"
            f" {slots['practitioners']} practitioners, a full book against an empty one, {name}",
            f"{figures['appointments']:,} appointments: p95 {full['p95_ms']:,.0f} ms against"
            f" {empty['p95_ms']:,.0f} ms: {figures['p95_ratio']:.2f} × (goal: under"
            f" {slots['goal_ms']:g} ms and at most {slots['goal_ratio']:g} ×); p50"
            f" {full['p50_ms']:,.0f} / {empty['p50_ms']:,.0f} ms ({slots['repeats']} asks each,"
            " in turns)",
        )


def chain_check_row(chain: dict[str, Any]) -> Row:
    """The audit page's check from the latest checkpoint against a walk of the whole chain."""
    return (
        "the audit chain checked from its latest checkpoint (every view of /audit) / whole, SQLite",
        f"{chain['since_checkpoint_ms']:,.0f} ms / {chain['whole_ms']:,.0f} ms for"
        f" {chain['rows']:,} rows, {chain['rows_after_checkpoint']:,} after the checkpoint",
    )


def fhir_load_row(fhir: dict[str, Any]) -> Row:
    """``$everything`` of that client over HTTP, several asking at once."""
    load = fhir["everything_under_load"]
    return (
        "`$everything` of that client over HTTP, several asking at once, SQLite",
        f"{load['concurrency']} at a time for {load['duration_s']:g} s: p50"
        f" {load['p50_ms']:,.0f} ms, p95 {load['p95_ms']:,.0f} ms, p99 {load['p99_ms']:,.0f} ms"
        f" ({load['requests']} answers, {load['errors']} errors)",
    )


def fhir_row(fhir: dict[str, Any]) -> Row:
    """A client's FHIR Bundle built and checked by the R4B models, and its size."""
    return (
        "FHIR export of a client with 50 sessions (`$everything`, `microamp export fhir`), SQLite",
        f"{fhir['export_ms']:,.0f} ms for {fhir['resources']:,} resources ({fhir['build_ms']:,.0f} ms"
        f" reading and building them, the rest the R4B model check); {fhir['bytes'] / 1e6:.1f} MB"
        f" of JSON, the"
        f" {fhir['photos']} photos {fhir['photo_bytes'] / 1e6:.1f} MB of it"
        f" ({fhir['sessions']} sessions of {fhir['zones_per_session']} zones)",
    )


def mail_row(mail: dict[str, Any]) -> Row:
    """The outbox's sender against a local SMTP server, one connection per message."""
    return (
        "mail handed to a local SMTP server by the outbox's sender, SQLite",
        f"{mail['sent_per_s']:,.0f} messages/s ({mail['ms_per_message']:.1f} ms each: claimed,"
        f" sent on its own connection, logged; {mail['messages']} messages)",
    )


def token_read_row(lookup: dict[str, Any]) -> Row:
    """An API token read on an idle server beside the cheapest endpoint, and the lookup alone."""
    me, health = lookup["idle_bearer_me"], lookup["idle_healthz"]
    return (
        "`GET /api/v1/me` with a bearer token, idle, one request at a time, SQLite",
        f"{me['p50_ms']:.1f} ms p50, {me['p95_ms']:.1f} ms p95 (`/healthz`: {health['p50_ms']:.1f}"
        f" ms p50); the token lookup itself {lookup['token_lookup_alone_ms']:.2f} ms",
    )


def upload_rows(uploads: dict[str, Any]) -> Iterator[Row]:
    yield (
        "a decompression bomb (13,300 × 13,300 px PNG) refused, in-process / over HTTP",
        f"{uploads['bomb_refused_in_process_ms']:.2f} ms / "
        f"{uploads['bomb_refused_over_http_ms']:.1f} ms for {uploads['bomb_bytes'] / 1000:,.0f} kB"
        f" claiming {uploads['bomb_pixels'] / 1e6:,.0f} MP (judged from its header, never decoded)",
    )
    yield (
        "a 12 MP JPEG prepared for keeping (decoded, scaled to 2,048 px, re-encoded)",
        f"{uploads['jpeg_12mp_prepared_ms']:,.0f} ms",
    )
    slowest = uploads["slowest_beside_ms"]
    yield (
        "a large PNG uploaded through the API, and the slowest request answered beside it",
        f"{uploads['large_pixels'] / 1e6:.0f} MP in {uploads['upload_s']:.1f} s; "
        + (f"{slowest:,.0f} ms" if slowest is not None else "none asked")
        + f" of {uploads['requests_beside']} (the image work runs in the thread pool)",
    )


PHOTO_STORES = (
    ("sqlite", "in the database, SQLite"),
    ("postgresql", "in the database, PostgreSQL"),
    ("directory", "in a content-addressed directory"),
)


def photo_storage_rows(storage: dict[str, Any]) -> Iterator[Row]:
    """A kept 12 MP photo written and read each way, and its size there."""
    yield (
        "a 12 MP JPEG as uploaded / as kept (2,048 px)",
        f"{storage['upload_bytes'] / 1e6:.1f} MB / {storage['kept_bytes'] / 1000:,.0f} kB",
    )
    for key, where in PHOTO_STORES:
        figures = storage[key]
        label = f"a kept 12 MP photo written / read {where}"
        if "skipped" in figures:
            yield (label, f"not measured: {figures['skipped']}")
            continue
        yield (
            label,
            f"{figures['write']['median_ms']:.2g} ms / {figures['read']['median_ms']:.2g} ms"
            f" median, {figures['bytes_per_photo'] / 1000:,.0f} kB on disk",
        )


def vision_rows(vision: dict[str, Any]) -> Iterator[Row]:
    photo, page = vision["photo_12mp"], vision["outcome_page"]
    if "skipped" in photo:
        measured = uploaded = f"not measured: {photo['skipped']}"
    else:
        goal = f" (goal: under {photo['goal_s']:g} s)"
        measured = (
            f"{photo['measure_image']['median_s'] * 1000:,.0f} ms median, "
            f"{photo['measure_image']['best_s'] * 1000:,.0f} ms best{goal}"
        )
        uploaded = f"{photo['upload_prepared_and_measured']['median_s'] * 1000:,.0f} ms median"
    yield ("landmarks and measures of a 12 MP photo, one core", measured)
    yield (
        "a 12 MP JPEG uploaded with a view: decoded, scaled, measured, re-encoded, one core",
        uploaded,
    )
    yield (
        "a client's outcome page, measures stored, one request at a time",
        f"{page['p50_ms']:,.0f} ms p50, {page['p95_ms']:,.0f} ms p95 over {page['requests']:,}"
        f" requests, {page['photos']} photos and {page['sessions']} sessions"
        f" (goal: under {page['goal_ms']:g} ms)",
    )


WEB_TARGETS: tuple[tuple[str, Callable[[dict[str, Any]], dict[str, Any] | None]], ...] = (
    ("bare FastAPI endpoint", lambda web: web["bare_fastapi"]),
    ("client page, SQLite", lambda web: web["sqlite"]["client_page"]),
    ("API read (screening), SQLite", lambda web: web["sqlite"]["api_screening_read"]),
    ("pulse graph page, SQLite", lambda web: web["sqlite"].get("pulse_page")),
    ("client page, PostgreSQL", lambda web: web["postgresql"].get("client_page")),
    ("API read (screening), PostgreSQL", lambda web: web["postgresql"].get("api_screening_read")),
    ("pulse graph page, PostgreSQL", lambda web: web["postgresql"].get("pulse_page")),
)
# the same endpoint with and without a session to look up, and a token read beside them
SESSION_TARGETS: tuple[tuple[str, str], ...] = (
    ("/healthz signed in (the session looked up in the store), SQLite", "signed_in_session"),
    ("/healthz signed out (no session lookup), SQLite", "anonymous"),
    ("API read with a bearer token (/api/v1/me), SQLite", "bearer_token"),
)


def _load_row(label: str, figures: dict[str, Any] | None) -> tuple[str, ...]:
    if figures is None:
        return (label, "not measured", "", "", "", "")
    return (
        label,
        f"{figures['rps']:,.0f}",
        *(f"{figures[k]:,.0f} ms" for k in ("p50_ms", "p95_ms", "p99_ms")),
        f"{figures['errors']:,}",
    )


# the client page with its audit row and without, per database, beside a bare endpoint
AUDIT_TARGETS: tuple[tuple[str, Callable[[dict[str, Any]], dict[str, Any] | None]], ...] = (
    ("bare FastAPI endpoint (audit run)", lambda cost: cost["bare_fastapi"]),
    ("client page audited, SQLite", lambda cost: cost["sqlite"]["audited"]),
    ("client page unaudited, SQLite", lambda cost: cost["sqlite"]["unaudited"]),
    ("client page audited, PostgreSQL", lambda cost: cost["postgresql"].get("audited")),
    ("client page unaudited, PostgreSQL", lambda cost: cost["postgresql"].get("unaudited")),
)


def web_rows(doc: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    for label, pick in WEB_TARGETS:
        yield _load_row(label, pick(doc["web"]))
    for label, key in SESSION_TARGETS:
        yield _load_row(label, doc["session_lookup"][key])
    for label, pick in AUDIT_TARGETS:
        yield _load_row(label, pick(doc["audit_cost"]))


def audit_ratio_rows(doc: dict[str, Any]) -> Iterator[Row]:
    """Audited against unaudited requests per second, per database (goal: >= 0.8x)."""
    cost = doc["audit_cost"]
    for database, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        ratio = cost[database].get("audited_vs_unaudited_rps")
        if ratio is not None:
            yield (
                f"the client page audited against unaudited, requests per second, {name}",
                f"{ratio:.2f} × (goal: at least {cost['goal_ratio']:g} ×)",
            )


REACTION_LABELS = {
    "contact-loss": ("contact loss (probe lifts off)", "the device's own per-sample trip"),
    "dry": ("dry skin (compliance saturated)", "the device's own per-sample trip"),
    "disconnect": ("disconnect", "the output stage is gone"),
    "stall": ("telemetry stall", "only the host can see silence: 50 ms without a frame"),
}


# a probe lifting under pulsed waveforms: seen at the first commanded sample that did not flow
PULSED_HOW = "the device's trip counts commanded samples across the gaps between pulses"
PULSED_LABELS = {
    "short_pulse_300us_biphasic_100hz": (
        "contact loss, 300 µs biphasic pulses at 100 Hz",
        PULSED_HOW,
    ),
    "low_duty_5pct_10hz": ("contact loss, 5 % duty at 10 Hz", PULSED_HOW),
    "low_frequency_0.5hz": ("contact loss, 0.5 Hz square", PULSED_HOW),
    "burst_100hz_0.3s_on_0.7s_off": (
        "contact loss, 300 µs pulses at 100 Hz in bursts 0.3 s on, 0.7 s off",
        PULSED_HOW,
    ),
}


def reaction_rows(doc: dict[str, Any]) -> Iterator[Row | tuple[str, str, str]]:
    reaction = doc["reaction"]
    injected = reaction["sim_injection_to_zero_ms"]
    for kind, onset_ms in reaction["sim_onset_to_zero_ms"].items():
        label, how = REACTION_LABELS.get(kind, (kind, ""))
        figure = f"{onset_ms:.2f} ms"
        if kind == "dry":
            figure += (
                f" after saturation ({injected[kind]:.1f} ms after the skin dries: the load takes"
                " that long to charge to the compliance rail)"
            )
        yield (label, figure, how)
    for kind, figures in reaction["contact_loss_by_waveform"].items():
        label, how = PULSED_LABELS.get(kind, (kind, ""))
        yield (
            label,
            f"{figures['onset_to_zero_ms']:.2f} ms ({figures['lift_to_zero_ms']:,.1f} ms after the"
            " lift: nothing flows to miss until current is commanded again)",
            how,
        )
    yield (
        "silent host, serial firmware emulator",
        f"{reaction['emulator_watchdog_ms']:.0f} ms",
        "the firmware's 250 ms watchdog",
    )


def _table(header: tuple[str, ...], rows: Iterator[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(doc: dict[str, Any]) -> str:
    """The three README tables, in README order."""
    return "\n\n".join(
        (
            _table(("figure", "value"), performance_rows(doc)),
            _table(("endpoint", "requests/s", "p50", "p95", "p99", "errors"), web_rows(doc)),
            _table(("fault", "onset to zero", "how it is seen"), reaction_rows(doc)),
        )
    )


def row_labels(doc: dict[str, Any]) -> list[str]:
    """The first cell of every row `render` produces (what the README must carry)."""
    rows = [*performance_rows(doc), *web_rows(doc), *reaction_rows(doc)]
    return [row[0] for row in rows]


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else ".bench/latest.json")
    print(render(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
