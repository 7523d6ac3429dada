"""Named operator tokens, the disclosure register's listing and the access log, as pure code."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.personal_data import access_log, disclosures
from services.runtime.operators import (
    OperatorTokensError,
    combined,
    forwarding_secret,
    identify,
    parse_tokens,
)
from services.runtime.settings import SettingsError, load_settings

PESEL = "44051401359"
A, B = "a" * 32, "b" * 40
T0 = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)


def test_named_tokens_identify_their_reader_and_the_admin_token_keeps_working() -> None:
    tokens = combined(parse_tokens(f"anna:{A}, piotr:{B}"), "c" * 32, "admin")
    assert identify(tokens, f"Bearer {A}".encode()) == "anna"
    assert identify(tokens, f"Bearer {B}".encode()) == "piotr"
    assert identify(tokens, b"Bearer " + b"c" * 32) == "admin"
    assert identify(tokens, f"Bearer {A}x".encode()) is None
    assert identify(tokens, b"\xff\xfe") is None
    assert forwarding_secret(tokens) != forwarding_secret({"anna": A})


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("anna", "entry 1: expected name:token"),
        (f"anna:{A[:10]}", "entry 1 (anna): the token has 10 characters"),
        (f"anna:{A},anna:{B}", "the name anna is given twice"),
        (f"anna:{A},piotr:{A}", "the same token as another name"),
        (f"an na:{A}", "expected name:token"),
    ],
)
def test_a_malformed_token_list_is_refused_without_showing_a_token(text: str, fault: str) -> None:
    with pytest.raises(OperatorTokensError, match=fault.replace("(", r"\(").replace(")", r"\)")):
        parse_tokens(text)


def test_settings_refuse_bad_tokens_at_start_up_and_never_show_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAI_OPERATOR_TOKENS", f"anna:{A[:20]}")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "PAI_OPERATOR_TOKENS" in str(raised.value) and A[:20] not in str(raised.value)
    monkeypatch.setenv("PAI_OPERATOR_TOKENS", f"anna:{A}")
    monkeypatch.setenv("PAI_ADMIN_TOKEN", A)
    with pytest.raises(SettingsError):  # the same token under two names
        load_settings()
    monkeypatch.setenv("PAI_ADMIN_TOKEN", B)
    assert load_settings().operator_tokens_by_name() == {"anna": A, "admin": B}


def _disclosure(webhook_id: str, at: dt.datetime) -> dict[str, object]:
    body = orjson.dumps(
        {
            "type": "pai.cycle.started",
            "timestamp": "2026-03-02T08:00:00.000Z",
            "legal_basis": [
                {"applies_to": "CycleStarted", "provision": "art. 62a"},
                {"applies_to": "CycleStarted", "provision": "art. 112 KC"},
            ],
            "purpose": "cooperation",
            "data": {"person_id": PESEL, "event_id": webhook_id, "ops_code": "1465011"},
        }
    )
    made = disclosures.disclosure_of(webhook_id, "pai.cycle.started", "1465011", body, "OPS", at, 1)
    assert made is not None
    return made


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1000)), max_size=30))
def test_repeats_of_a_webhook_are_one_disclosure_listed_by_latest_delivery(
    deliveries: list[tuple[int, int]],
) -> None:
    records = [
        (disclosures.record_key(PESEL, f"w{n}"), _disclosure(f"w{n}", T0 + dt.timedelta(s)))
        for n, s in deliveries
    ]
    listed = disclosures.listing(records)
    latest: dict[str, dt.datetime] = {}
    for n, s in deliveries:
        latest[f"w{n}"] = T0 + dt.timedelta(s)
    assert [e["webhook_id"] for e in listed] == sorted(latest, key=lambda w: (latest[w], w))
    assert all(e["delivered_at"] == latest[e["webhook_id"]] for e in listed)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1000), st.booleans()), max_size=30))
def test_the_listing_is_the_same_after_compaction(
    writes: list[tuple[int, int, bool]],
) -> None:
    """Compaction keeps the last record per key (a tombstone, until it is removed too)."""
    records = [
        (
            disclosures.record_key(PESEL, f"w{n}"),
            None if erased else _disclosure(f"w{n}", T0 + dt.timedelta(s)),
        )
        for n, s, erased in writes
    ]
    last = dict(records)
    compacted = [(key, fields) for key, fields in last.items() if fields is not None]
    assert disclosures.listing(compacted) == disclosures.listing(records)


def test_a_tombstone_erases_a_disclosure_and_since_filters() -> None:
    key = disclosures.record_key(PESEL, "w1")
    first = _disclosure("w1", T0)
    assert first["legal_basis"] == ["art. 62a", "art. 112 KC"]
    assert first["fields"] == ["event_id", "ops_code", "person_id"]
    assert disclosures.listing([(key, first), (key, None)]) == []
    later = T0 + dt.timedelta(days=1)
    assert disclosures.listing([(key, first)], since=later) == []
    assert disclosures.person_of_key(key) == PESEL
    assert disclosures.person_of_key(b"erased:00") is None


def test_a_webhook_naming_no_person_is_no_disclosure() -> None:
    body = orjson.dumps({"type": "pai.cycle.started", "data": {"event_id": "w"}})
    assert disclosures.disclosure_of("w", "pai.cycle.started", "1465011", body, "", T0, 1) is None


def test_an_erasure_keeps_no_pesel_even_in_its_reason() -> None:
    key, fields = access_log.erasure_entry(
        "s" * 32, PESEL, "anna", f"request of {PESEL}\x1b[2J", ["persons: 1"], T0
    )
    assert PESEL.encode() not in key and PESEL not in orjson.dumps(fields).decode()
    assert "\x1b" not in fields["reason"]
    assert fields["person_hash"] == access_log.person_hash("s" * 32, PESEL)
    assert access_log.person_hash("t" * 32, PESEL) != fields["person_hash"]


@pytest.mark.parametrize(
    "written",
    [
        PESEL,
        f"{PESEL[:6]} {PESEL[6:]}",
        "-".join([PESEL[:2], PESEL[2:4], PESEL[4:6], PESEL[6:]]),
        ".".join(PESEL),
        " ".join(PESEL),
        f"{PESEL[:3]} - {PESEL[3:]}",
        f"{PESEL}0",
    ],
)
def test_a_reason_keeps_no_pesel_written_with_separators(written: str) -> None:
    _key, fields = access_log.erasure_entry("s" * 32, PESEL, "anna", f"wniosek {written}", [], T0)
    assert PESEL not in "".join(ch for ch in fields["reason"] if ch.isdigit()), fields
    assert "***********" in fields["reason"]


def test_a_reason_keeps_its_dates_and_case_numbers() -> None:
    reason = "RODO art. 17, wniosek 7/2026 z 2026-03-02, sygn. 12.345"
    _key, fields = access_log.erasure_entry("s" * 32, PESEL, "anna", reason, [], T0)
    assert fields["reason"] == reason


def test_a_read_that_found_nobody_is_recorded_under_the_hash_never_the_pesel() -> None:
    recorded = access_log.absent_id("s" * 32, PESEL)
    assert recorded == "absent:" + access_log.person_hash("s" * 32, PESEL)
    assert access_log.absent_id(None, PESEL) == "absent:unhashed"
    key, fields = access_log.read_entry(
        recorded, "anna", None, "eligibility", "GET /persons/{pesel}", dt.datetime.now(dt.UTC)
    )
    assert PESEL not in key.decode() + orjson.dumps(fields, default=str).decode()
    assert disclosures.person_of_key(key) is None, "not listed as the PESEL's read"


def test_retention_counts_years_from_the_last_event_and_keeps_what_has_no_date() -> None:
    from services.eligibility.rules import Contract, PersonState
    from services.personal_data.retention import (
        cutoff,
        eligibility_last_event,
        expired,
        schedule_last_event,
    )
    from services.scheduler.domain import Schedule

    assert cutoff(dt.date(2028, 2, 29), 10) == dt.date(2018, 2, 28)
    assert expired(dt.date(2016, 3, 1), dt.date(2026, 3, 2), 10)
    assert not expired(dt.date(2016, 3, 2), dt.date(2026, 3, 2), 10)
    assert not expired(None, dt.date(2099, 1, 1), 1)
    state = PersonState(
        person_id=PESEL,
        registration_stamp=T0,
        last_decided_on=dt.date(2031, 5, 1),  # a decision by date is no event of the person
        contracts={
            "K1": Contract(
                signed_on=dt.date(2026, 1, 1),
                valid_until=dt.date(2026, 12, 31),
                stamp=dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC),
            )
        },
    )
    # the contract's last day (valid until 2026-12-31) is later than its event (2026-05-01)
    assert eligibility_last_event(state) == dt.date(2026, 12, 31)
    assert eligibility_last_event(PersonState(person_id=PESEL)) is None
    assert schedule_last_event(Schedule(person_id=PESEL)) is None
