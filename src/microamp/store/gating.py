"""The clinic's gate as session prechecks: screening and consent read fresh from the store.

Both the `microamp run --client` command and the web console hand these hooks to the
`SessionRunner`, so no current flows for a client who is contraindicated, deferred, waiting for
a physician's clearance or without a consent on file, whatever a page or a prompt showed.
Zones to avoid reach the runner, which removes their steps and says so.

`start_prechecks` is the one door every device start of a client passes (the station's start,
so the console, the API and the home app's device mode; and `microamp run --client`): before
anything opens the device it refuses a session that would take a person the home profile
governs past her time in a day (`microamp.store.daily_time`).
"""

from __future__ import annotations

from datetime import date

from microamp.protocols.schema import Protocol
from microamp.protocols.validate import plan_protocol
from microamp.safety.limits import LimitProfile
from microamp.session import CheckResult, PrecheckContext, Prechecks
from microamp.store.crud import gate_client
from microamp.store.daily_time import check_daily_time, planned_seconds
from microamp.store.db import Store

__all__ = ["CONSENT_CODES", "client_prechecks", "start_prechecks"]

# Refusals that are about consent, reported by the consent precheck; the rest by screening.
CONSENT_CODES = frozenset({"no_consent", "consent_outdated"})


def client_prechecks(store: Store, *, client_id: int, on: date) -> Prechecks:
    """Screening and consent prechecks for ``client_id`` on day ``on``.

    Raises `NotFound` (when a hook runs) for a client that does not exist.
    """

    def refusals(*, consent: bool) -> tuple[list[str], tuple[str, ...]]:
        with store.session() as db:
            decision = gate_client(db, client_id=client_id, on=on)
        chosen = [r.message for r in decision.refusals if (r.code in CONSENT_CODES) == consent]
        return chosen, tuple(decision.avoid_zones)

    def screening(_ctx: PrecheckContext) -> CheckResult:
        reasons, avoid = refusals(consent=False)
        return CheckResult.refused(reasons) if reasons else CheckResult.passed(avoid_zones=avoid)

    def consent(_ctx: PrecheckContext) -> CheckResult:
        reasons, _ = refusals(consent=True)
        return CheckResult.refused(reasons) if reasons else CheckResult.passed()

    return Prechecks(screening=screening, consent=consent)


def start_prechecks(
    store: Store, *, client_id: int, on: date, protocol: Protocol, profile: LimitProfile
) -> Prechecks:
    """`client_prechecks` for a session of ``protocol`` about to start on day ``on``.

    Raises `InvalidValue` (field ``routine``) before anything runs when the routine's planned
    time would take her past the home profile's time in a day.
    """
    planned_s = planned_seconds(plan_protocol(protocol, profile))
    with store.session() as db:
        check_daily_time(db, client_id=client_id, planned_s=planned_s, on=on)
    return client_prechecks(store, client_id=client_id, on=on)
