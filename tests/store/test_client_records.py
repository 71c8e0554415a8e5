"""Client records kept up to date, on both databases: edit, archive, search, possible
duplicates, merge, skin analyses and note templates."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from clinic.samples import cleared_answers
from microamp.errors import InvalidValue, NotFound
from microamp.store import (
    Store,
    StoreSettings,
    client_records,
    create_client,
    gate_client,
    get_client,
    list_clients,
    open_store,
    record_consent,
    record_intake,
)
from microamp.store.client_records import (
    _search_filter,
    archive_client,
    count_clients,
    merge_clients,
    possible_duplicates,
    search_clients,
    search_page,
    unarchive_client,
    update_client,
)
from microamp.store.models import Client, IntakeForm, SafetyFlag
from microamp.store.skin import (
    delete_note_template,
    list_note_templates,
    record_skin_analysis,
    save_note_template,
    skin_analyses,
)

DAY = date(2026, 11, 21)
BORN = date(1990, 4, 12)


def add(store: Store, name: str, **fields: object) -> int:
    with store.transaction() as session:
        return create_client(
            session,
            full_name=name,
            date_of_birth=fields.pop("dob", BORN),
            **fields,  # type: ignore[arg-type]
        ).id


def test_an_edit_checks_every_value_before_writing_any(store: Store) -> None:
    client_id = add(store, "Ana Lima", email="ana@example.org")
    with store.transaction() as session:
        with pytest.raises(InvalidValue) as refused:
            update_client(
                session,
                client_id=client_id,
                changes={"phone": "0612345678", "email": "not an address"},
                today=DAY,
            )
        assert refused.value.field == "email"
    with store.session() as session:
        assert get_client(session, client_id=client_id).phone is None
    with store.transaction() as session:
        client, changed = update_client(
            session,
            client_id=client_id,
            changes={"phone": " 06 12 34 56 78 ", "allergies": "latex", "email": "ana@example.org"},
            today=DAY,
        )
        assert changed == ["phone", "allergies"]
    with store.session() as session:
        client = get_client(session, client_id=client_id)
        assert (client.phone, client.allergies) == ("06 12 34 56 78", "latex")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", date(2030, 1, 1)),
        ("full_name", "   "),
        ("preferred_weekdays", ["someday"]),
        ("fitzpatrick_type", "VII"),
        ("medications", "x" * 4001),
        ("archived_at", None),
    ],
)
def test_an_edit_refuses_a_bad_value_naming_its_field(
    store: Store, field: str, value: object
) -> None:
    client_id = add(store, "Ana Lima")
    with store.transaction() as session, pytest.raises(InvalidValue) as refused:
        update_client(session, client_id=client_id, changes={field: value}, today=DAY)
    assert refused.value.field == field


def test_archived_clients_leave_lists_and_search_unless_asked(store: Store) -> None:
    ana = add(store, "Ana Lima")
    add(store, "Ana Costa")
    with store.transaction() as session:
        archive_client(session, client_id=ana)
    with store.session() as session:
        assert [c.full_name for c in list_clients(session)] == ["Ana Costa"]
        assert [c.full_name for c in search_clients(session, q="ana")] == ["Ana Costa"]
        found = search_clients(session, q="ana", include_archived=True)
        assert [c.full_name for c in found] == ["Ana Costa", "Ana Lima"]
    with store.transaction() as session:
        unarchive_client(session, client_id=ana)
    with store.session() as session:
        assert len(search_clients(session, q="ana")) == 2


def test_search_finds_phone_and_email_and_health_fields_only_for_clinical_roles(
    store: Store,
) -> None:
    ana = add(store, "Ana Lima", email="ana.lima@example.org", phone="+33 6 12-34-56-78")
    add(store, "Bea Costa", email="bea@example.org")
    with store.transaction() as session:
        update_client(session, client_id=ana, changes={"allergies": "Latex gloves"}, today=DAY)
    with store.session() as session:

        def names(q: str, clinical: bool = False) -> list[str]:
            return [c.full_name for c in search_clients(session, q=q, clinical=clinical)]

        assert names("LIMA@") == ["Ana Lima"]
        assert names("612345678") == ["Ana Lima"]
        assert names("6 12") == ["Ana Lima"]
        assert names("example.org") == ["Ana Lima", "Bea Costa"]
        assert names("latex") == []
        assert names("latex", clinical=True) == ["Ana Lima"]


SEARCHED = ("Ana Lima", "ANA LIMA", "ana lima", "Élodie Brun", "élodie brun", "Zoë O'Neil",
            "Ünal Şahin", "Mia_Hall")  # fmt: skip


@pytest.mark.parametrize(
    "q", ["ana", "LIMA", "élodie", "ÉLODIE", "zoë", "ZOË", "ünal", "o'n", "a_h"]
)
def test_search_folds_case_exactly_as_ilike_does(store: Store, q: str) -> None:
    """The search's case-blind match (plain LIKE on SQLite, the cheaper way) finds exactly what
    ``ilike`` finds, accented letters included, on either database."""
    for name in SEARCHED:
        add(store, name, email=f"{len(name)}@example.org")
    with store.session() as session:
        found = [c.full_name for c in search_clients(session, q=q)]
        pattern = f"%{q}%"
        expected = session.scalars(
            select(Client.full_name)
            .where(Client.full_name.ilike(pattern) | Client.email.ilike(pattern)
                   | Client.phone.ilike(pattern))
            .order_by(Client.full_name, Client.id)
        ).all()  # fmt: skip
    assert found == list(expected)
    # an ASCII query always finds someone here (an accented capital may find nobody on SQLite,
    # whose case folding is ASCII's alone, either way)
    assert found or not q.isascii()


def test_possible_duplicates_by_name_and_birth_or_email_or_phone(store: Store) -> None:
    ana = add(store, "Ana Lima", email="ana@example.org", phone="06 12 34 56 78")
    add(store, "Ana Lima", dob=date(1970, 1, 1))
    with store.session() as session:

        def ids(**given: object) -> list[int]:
            fields: dict[str, object] = {"full_name": "Nobody", "date_of_birth": BORN} | given
            return [c.id for c in possible_duplicates(session, **fields)]  # type: ignore[arg-type]

        assert ids(full_name="  ana   LIMA ") == [ana]
        assert ids(email="ANA@example.org") == [ana]
        assert ids(phone="0612345678") == [ana]
        assert ids(phone="0612") == []
        assert ids() == []
        assert ids(full_name="Ana Lima", exclude_id=ana) == []


def _contraindicated_duplicate(store: Store) -> tuple[int, int]:
    kept = add(store, "Ana Lima", email="ana@example.org")
    duplicate = add(store, "ana lima", phone="0612345678")
    with store.transaction() as session:
        record_intake(session, client_id=kept, answers=cleared_answers(), on=DAY, today=DAY)
        record_consent(session, client_id=kept, typed_signature="Ana Lima")
        record_intake(
            session,
            client_id=duplicate,
            answers=cleared_answers(pregnant=True),
            on=DAY,
            today=DAY,
        )
        update_client(
            session,
            client_id=duplicate,
            changes={"allergies": "latex", "concerns": ["jowls"]},
            today=DAY,
        )
    return kept, duplicate


def test_a_merge_moves_everything_and_the_duplicates_flags_then_hold(store: Store) -> None:
    kept, duplicate = _contraindicated_duplicate(store)
    with store.session() as session:
        assert gate_client(session, client_id=kept, on=DAY).allowed
    with store.transaction() as session:
        moved = merge_clients(session, keep_id=kept, duplicate_id=duplicate)
    assert moved == {"intake_forms": 1, "safety_flags": 1}
    with store.session() as session:
        client = get_client(session, client_id=kept)
        assert (client.phone, client.allergies, client.concerns) == (
            "0612345678",
            "latex",
            ["jowls"],
        )
        forms = session.scalars(select(IntakeForm.client_id)).all()
        assert set(forms) == {kept}
        assert set(session.scalars(select(SafetyFlag.client_id))) == {kept}
        assert not gate_client(session, client_id=kept, on=DAY).allowed
        gone = get_client(session, client_id=duplicate)
        assert (gone.merged_into_id, gone.archived_at is not None) == (kept, True)
        assert [c.id for c in list_clients(session)] == [kept]


def test_a_merge_is_irreversible_and_refuses_itself(store: Store) -> None:
    kept, duplicate = _contraindicated_duplicate(store)
    with store.transaction() as session:
        with pytest.raises(InvalidValue, match="is the client kept"):
            merge_clients(session, keep_id=kept, duplicate_id=kept)
        merge_clients(session, keep_id=kept, duplicate_id=duplicate)
    with store.transaction() as session:
        for keep_id, duplicate_id in ((kept, duplicate), (duplicate, kept)):
            with pytest.raises(InvalidValue, match="already merged"):
                merge_clients(session, keep_id=keep_id, duplicate_id=duplicate_id)
        with pytest.raises(InvalidValue, match="was merged into"):
            unarchive_client(session, client_id=duplicate)
        with pytest.raises(InvalidValue, match="was merged into"):
            update_client(session, client_id=duplicate, changes={"phone": "1"}, today=DAY)
        with pytest.raises(NotFound):
            merge_clients(session, keep_id=kept, duplicate_id=999)


def test_skin_analyses_are_kept_as_versions_and_set_the_clients_skin(store: Store) -> None:
    client_id = add(store, "Ana Lima")
    with store.transaction() as session:
        first = dict(skin_type="dry", fitzpatrick_type="II", laxity_grade="mild")
        record_skin_analysis(
            session, client_id=client_id, assessed_on=date(2026, 10, 1), today=DAY, **first
        )
        record_skin_analysis(
            session,
            client_id=client_id,
            assessed_on=DAY,
            today=DAY,
            skin_type="Combination",
            fitzpatrick_type=3,
            laxity_grade=2,
            concerns=["jowls", " "],
        )
    with store.session() as session:
        history = skin_analyses(session, client_id=client_id)
        assert [(a.version, a.skin_type, a.laxity_grade) for a in history] == [
            (2, "combination", 2),
            (1, "dry", 1),
        ]
        client = get_client(session, client_id=client_id)
        assert (client.fitzpatrick_type, client.concerns) == (3, ["jowls"])


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("skin_type", {"skin_type": "leathery"}),
        ("fitzpatrick_type", {"fitzpatrick_type": ""}),
        ("laxity_grade", {"laxity_grade": 5}),
        ("assessed_on", {"assessed_on": date(2026, 12, 1)}),
    ],
)
def test_a_skin_analysis_refuses_a_bad_value(
    store: Store, field: str, changes: dict[str, object]
) -> None:
    client_id = add(store, "Ana Lima")
    given: dict[str, object] = {
        "assessed_on": DAY,
        "skin_type": "dry",
        "fitzpatrick_type": 2,
        "laxity_grade": 0,
    } | changes
    with store.transaction() as session, pytest.raises(InvalidValue) as refused:
        record_skin_analysis(session, client_id=client_id, today=DAY, **given)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_note_templates_are_named_uniquely_changed_and_removed(store: Store) -> None:
    with store.transaction() as session:
        first = save_note_template(session, name="Lift", body="Areas worked:")
        save_note_template(session, name="Eyes", body="Eye area:")
        with pytest.raises(InvalidValue, match="another template"):
            save_note_template(session, name="Lift", body="again")
        save_note_template(session, template_id=first.id, name="Lift", body="Zones:")
    with store.transaction() as session:
        assert [(t.name, t.body) for t in list_note_templates(session)] == [
            ("Eyes", "Eye area:"),
            ("Lift", "Zones:"),
        ]
        delete_note_template(session, template_id=first.id)
    with store.session() as session:
        assert [t.name for t in list_note_templates(session)] == ["Eyes"]


def test_a_search_is_paged_by_name_with_the_number_found_on_every_page(store: Store) -> None:
    for n in range(1, 31):
        add(store, f"Rosa Page{n:02d}", email=f"rosa{n}@example.org")
    add(store, "Zoe Other")
    with store.transaction() as session:
        first = search_page(session, q="rosa", page=1, per_page=25)
        second = search_page(session, q="rosa", page=2, per_page=25)
        assert (first.total, first.pages, len(first.clients)) == (30, 2, 25)
        assert [c.full_name for c in second.clients] == [f"Rosa Page{n}" for n in range(26, 31)]
        assert not second.past_end and (second.total, second.pages) == (30, 2)
        assert count_clients(session, q="rosa") == 30 and count_clients(session) == 31
        beyond = search_page(session, q="rosa", page=3, per_page=25)
        assert beyond.past_end and beyond.clients == [] and beyond.total == 30
        nothing = search_page(session, q="nobody by that name")
        assert (nothing.total, nothing.pages, nothing.past_end) == (0, 1, False)


def test_a_page_before_the_first_or_of_no_rows_is_refused(store: Store) -> None:
    with store.transaction() as session:
        with pytest.raises(InvalidValue) as page:
            search_page(session, page=0)
        with pytest.raises(InvalidValue) as size:
            search_page(session, per_page=501)
    assert page.value.field == "page" and size.value.field == "per_page"


def _search_plan(session: Any, q: str, clinical: bool) -> str:
    """SQLite's plan for a client search, its steps on one line each."""
    where = _search_filter(session, q, clinical, False)
    query = select(Client.id).where(*where).compile(compile_kwargs={"literal_binds": True})
    rows = session.execute(text(f"EXPLAIN QUERY PLAN {query}")).all()
    return "\n".join(row[-1] for row in rows)


def test_a_search_of_three_characters_or_more_reads_the_trigram_index_not_the_table(
    database_url: str, settings: StoreSettings
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the FTS5 index is SQLite's; PostgreSQL's trigram indexes are checked below")
    with open_store(database_url, settings=settings, upgrade=True) as store:
        add(store, "Ana Lima", phone="06 12 34 56 78")
        with store.session() as session:
            for q, clinical in (("lima", False), ("latex", True), ("0612", False)):
                plan = _search_plan(session, q, clinical)
                assert "client_search VIRTUAL TABLE" in plan
                assert "SCAN clients" not in plan
            # two characters: the index cannot narrow it, the table is read as before
            assert "client_search" not in _search_plan(session, "li", False)


def test_the_search_index_follows_every_edit_of_a_client(store: Store) -> None:
    ana = add(store, "Ana Lima", email="ana@example.org", phone="06 12 34 56 78")
    with store.transaction() as session:
        update_client(session, client_id=ana,
                      changes={"full_name": "Ana Duarte", "phone": "07 99 88 77 66",
                               "medications": "Isotretinoin", "notes": "Prefers mornings"},
                      today=DAY)  # fmt: skip
    with store.session() as session:

        def names(q: str, clinical: bool = False) -> list[str]:
            return [c.full_name for c in search_clients(session, q=q, clinical=clinical)]

        assert names("lima") == []
        assert names("0612") == []
        assert names("duarte") == ["Ana Duarte"]
        assert names("0799") == ["Ana Duarte"]
        # the health fields: found by a clinical role only, on either database
        assert names("isotret") == []
        assert names("isotret", clinical=True) == ["Ana Duarte"]
        assert names("MORNINGS") == []
        assert names("MORNINGS", clinical=True) == ["Ana Duarte"]
        assert count_clients(session, q="mornings", clinical=True) == 1
        assert count_clients(session, q="mornings") == 0


def test_postgresql_has_one_trigram_index_per_role_and_the_search_reads_it(
    database_url: str, settings: StoreSettings
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's trigram indexes")
    with open_store(database_url, settings=settings, upgrade=True) as store:
        with store.engine.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
                pytest.skip("pg_trgm cannot be created here: the search keeps its plain scan")
            indexes = connection.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'clients'")
            ).all()
        trigram = {name for name, definition in indexes if "gin_trgm_ops" in definition}
        assert trigram == {
            "client_search_plain",
            "client_search_clinical",
            "client_search_phone_digits",
        }
        add(store, "Ana Lima", phone="06 12 34 56 78")
        with store.transaction() as session:
            # a handful of rows: without this the planner reads them whole whatever the index
            session.execute(text("SET LOCAL enable_seqscan = off"))
            for q, clinical, index in (("lima", False, "client_search_plain"),
                                       ("latex", True, "client_search_clinical")):  # fmt: skip
                where = _search_filter(session, q, clinical, False)
                query = select(Client.id).where(*where)
                compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
                plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
                # the search's text is the index's expression, or PostgreSQL could not use it
                assert f"Bitmap Index Scan on {index}" in plan, plan


def test_a_search_never_runs_from_one_field_into_the_next(store: Store) -> None:
    add(store, "Ana Lima", email="ana@example.org", phone="06 12 34 56 78")
    with store.session() as session:
        # U+001F, which parts the fields in PostgreSQL's index, is whitespace to the search
        for q in ("lima\x1fana@", "limaana", "example.org06"):
            assert search_clients(session, q=q) == []
        assert [c.full_name for c in search_clients(session, q="Lima\x1f")] == ["Ana Lima"]


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(q=st.text(alphabet=st.sampled_from("aAeéÉlLiImMoØ0-9 '\"_%+.@:{}*()^\x1f"), max_size=7),
       clinical=st.booleans())  # fmt: skip
def test_the_index_finds_exactly_what_the_table_scan_finds_for_any_query(
    store: Store, q: str, clinical: bool
) -> None:
    """Whatever is typed (quotes, FTS5 operators, wildcards), the search answers, and
    with the trigram index exactly what reading the whole table would."""
    if not getattr(store, "_search_seeded", False):
        for name, phone in (("Ana Lima", "+351 912 000 111"), ("Élodie Müller", "0612 345"),
                            ('Zoë "Zo" O\'Neil', None), ("Mia_Hall 50%", "555-0199")):  # fmt: skip
            client_id = add(store, name, phone=phone, email=f"{len(name)}@x.example")
            with store.transaction() as session:
                update_client(session, client_id=client_id, today=DAY,
                              changes={"allergies": "latex", "medications": "isotretinoin 10 mg",
                                       "notes": 'prefers "gentle" (cheeks)'})  # fmt: skip
        store._search_seeded = True  # type: ignore[attr-defined]
    with store.session() as session:
        found = [c.id for c in search_clients(session, q=q, clinical=clinical)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client_records, "_indexable", lambda text: False)
        with store.session() as session:
            scanned = [c.id for c in search_clients(session, q=q, clinical=clinical)]
    assert found == scanned


@pytest.mark.parametrize("q", ["ana\x00", "\x00", "li\x00ma"])
def test_a_search_with_a_nul_is_refused_naming_q(store: Store, q: str) -> None:
    add(store, "Ana Lima")
    with store.session() as session, pytest.raises(InvalidValue) as refused:
        search_clients(session, q=q)
    assert refused.value.field == "q"
    with store.session() as session, pytest.raises(InvalidValue):
        count_clients(session, q=q)
