"""The record store: SQLAlchemy models, migrations, and plain functions over a session.

with open_store(url, upgrade=True) as store:          # url None: env, then the default
    with store.transaction() as session:
        client = create_client(session, full_name="Ana Lima", date_of_birth=date(1990, 4, 2))
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=client.id)
"""

# registered with the metadata wherever the store is imported: staff identity's tables, the
# book's, mail and forms before the visit, the client records' and the packages' (`packages`
# adds the book's completion hook that uses a package credit)
from microamp.store import book_models, client_models, mail, previsit  # noqa: E402, F401, I001
from microamp.store import staff, staff_sessions, station_models, throttle  # noqa: E402, F401, I001
from microamp.store import package_models, packages, visit_models  # noqa: E402, F401, I001
from microamp.store.config import StoreSettings, load_settings, normalise_url
from microamp.store.crud import (
    create_client,
    create_user,
    gate_client,
    get_client,
    get_user,
    latest_form,
    latest_screening,
    list_clients,
    record_clearance,
    record_consent,
    record_intake,
    save_screening,
)
from microamp.store.db import Store, open_store
from microamp.store.flags import lift_flags, unlifted_flags
from microamp.store.history import client_history
from microamp.store.migrate import current_revision, head_revision, upgrade_to_head
from microamp.store.models import (
    Appointment,
    Clearance,
    Client,
    Consent,
    CoursePlan,
    IntakeForm,
    Package,
    Price,
    ProgressEntry,
    SafetyFlag,
    User,
)
from microamp.store.photos import add_progress_entry, strip_metadata
from microamp.store.planning import (
    add_package,
    checkin_due,
    estimate_plan_cost,
    get_plan,
    get_price,
    list_packages,
    save_plan,
    set_price,
)
from microamp.store.recording import SessionRecorder, record_summary
from microamp.store.records import (
    get_session_record,
    list_session_records,
    record_refusal,
    session_record_dict,
    session_telemetry,
    set_feedback,
)
from microamp.store.recovery import recover_interrupted
from microamp.store.session_models import SessionEvent, TelemetryChunk, TreatmentSession

__all__ = [
    "Appointment",
    "Clearance",
    "Client",
    "Consent",
    "CoursePlan",
    "IntakeForm",
    "Package",
    "Price",
    "ProgressEntry",
    "SafetyFlag",
    "SessionEvent",
    "SessionRecorder",
    "Store",
    "StoreSettings",
    "TelemetryChunk",
    "TreatmentSession",
    "User",
    "add_package",
    "add_progress_entry",
    "checkin_due",
    "client_history",
    "create_client",
    "create_user",
    "current_revision",
    "estimate_plan_cost",
    "gate_client",
    "get_client",
    "get_plan",
    "get_price",
    "get_session_record",
    "get_user",
    "head_revision",
    "latest_form",
    "latest_screening",
    "lift_flags",
    "list_clients",
    "list_packages",
    "list_session_records",
    "load_settings",
    "normalise_url",
    "open_store",
    "record_clearance",
    "record_consent",
    "record_intake",
    "record_refusal",
    "record_summary",
    "recover_interrupted",
    "save_screening",
    "save_plan",
    "session_record_dict",
    "session_telemetry",
    "set_feedback",
    "set_price",
    "strip_metadata",
    "unlifted_flags",
    "upgrade_to_head",
]
