"""What the gateway accepts and refuses: the same as the services would read or dead-letter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.eligibility.rules import InvalidEvent, check_dates
from services.gateway.contract import ACCEPTED, CLOCK_SKEW, Forbidden, Invalid, check_event
from services.runtime import date_range
from services.runtime.codec import AvroCodec
from services.runtime.identifiers import is_valid_pesel
from services.scheduler.handling import MAX_WEEKLY_HOURS, InvalidInput, checked_hours
from tests.support.gateway import OPS, OTHER_OPS, benefits_granted, hours_reported

CODECS = {spec.name: AvroCodec(spec.schema) for spec in ACCEPTED.values() if spec.schema}


def paths(body: Any, ops: str = OPS) -> list[str]:
    with pytest.raises(Invalid) as refused:
        check_event(body, ops)
    return [e.path for e in refused.value.errors]


def test_a_valid_event_becomes_the_record_a_native_producer_would_write() -> None:
    event = hours_reported(1)
    checked = check_event(event, OPS)
    assert checked.topic.name == "pai.ops.integration-activities.v1"
    decoded = CODECS[checked.topic.name].decode(
        CODECS[checked.topic.name].encode(checked.type, checked.fields)
    )
    assert decoded.type == "IntegrationHoursReported"
    assert decoded.fields["week_start"] == dt.date(2026, 3, 2)
    assert decoded.fields["occurred_at"] == dt.datetime(2026, 3, 9, 7, 30, tzinfo=dt.UTC)
    assert decoded.fields["hours"] == 10.5


def test_every_problem_is_named_by_its_path_at_once() -> None:
    body = hours_reported(
        1,
        person_id="12345678901",
        week_start="2026-03-03",
        hours=168.001,
        activity="DANCING",
        occurred_at="2026-03-09T08:30:00",
        unknown_field=1,
    )
    del body["data"]["referral_id"]
    found = paths(body)
    assert "data.unknown_field" in found
    assert "data.referral_id" in found
    assert "data.activity" in found
    assert "data.occurred_at" in found
    # the domain checks wait for a readable record
    body = hours_reported(1, person_id="12345678901", week_start="2026-03-03", hours=168.001)
    assert paths(body) == ["data.person_id", "data.week_start", "data.hours"]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"event_id": "not-a-uuid"}, "data.event_id"),
        ({"event_id": "8E27EC7B-C93E-47F3-B0A4-90FB1C75A1EC"}, None),
        ({"granted_on": "2026-02-30"}, "data.granted_on"),
        ({"granted_on": "20260301"}, "data.granted_on"),
        ({"granted_on": 20260301}, "data.granted_on"),
        ({"valid_until": "2026-02-01"}, "data.valid_until"),
        ({"occurred_at": "2026-03-02"}, "data.occurred_at"),
        ({"occurred_at": "2026-03-02T10:00:00+01:00"}, None),
        ({"ops_code": "146501"}, "data.ops_code"),
        ({"person_id": 44051401359}, "data.person_id"),
        ({"person_id": "x" * 10_000}, "data.person_id"),
    ],
)
def test_fields_of_benefits(data: dict[str, Any], path: str | None) -> None:
    body = benefits_granted(2, **data)
    if path is None:
        check_event(body, OPS)
    else:
        assert path in paths(body)


@pytest.mark.parametrize(
    "body",
    [None, [], "x", {"type": "BenefitsGranted"}, {"type": "PsuHoursReported", "data": {}}, {}],
)
def test_not_an_event(body: Any) -> None:
    with pytest.raises(Invalid):
        check_event(body, OPS)


def test_another_ops_code_is_forbidden_not_invalid() -> None:
    with pytest.raises(Forbidden):
        check_event(benefits_granted(3, ops=OTHER_OPS), OPS)


@given(hours=st.floats(allow_nan=True, allow_infinity=True, width=64))
def test_hours_are_refused_exactly_when_the_scheduler_would_dead_letter_them(hours: float) -> None:
    try:
        checked_hours(hours, MAX_WEEKLY_HOURS)
        scheduler_refuses = False
    except InvalidInput:
        scheduler_refuses = True
    body = hours_reported(1, hours=hours)
    try:
        check_event(body, OPS)
        refused = False
    except Invalid:
        refused = True
    assert refused == scheduler_refuses


@given(
    granted=st.dates(),
    until=st.none() | st.dates(),
    n=st.integers(0, 10_000),
)
def test_dates_and_pesel_are_refused_exactly_when_eligibility_would(
    granted: dt.date, until: dt.date | None, n: int
) -> None:
    body = benefits_granted(
        n, granted_on=granted.isoformat(), valid_until=until and until.isoformat()
    )
    try:
        check_dates("BenefitsGranted", {"granted_on": granted, "valid_until": until})
        eligibility_refuses = False
    except InvalidEvent:
        eligibility_refuses = True
    assert is_valid_pesel(body["data"]["person_id"])
    try:
        check_event(body, OPS)
        refused = False
    except Invalid:
        refused = True
    assert refused == eligibility_refuses


@given(person=st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_a_pesel_is_refused_exactly_when_its_checksum_fails(person: str) -> None:
    body = benefits_granted(1, person_id=person)
    try:
        check_event(body, OPS)
        accepted = True
    except Invalid:
        accepted = False
    assert accepted == is_valid_pesel(person)


def test_an_upper_case_event_id_is_written_in_lower_case() -> None:
    body = benefits_granted(1)
    lower = body["data"]["event_id"]
    body["data"]["event_id"] = lower.upper()
    assert check_event(body, OPS).event_id == lower


_OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)


@given(instant=st.datetimes(timezones=_OFFSETS))
def test_an_occurred_at_is_refused_exactly_when_the_services_would_dead_letter_it(
    instant: dt.datetime,
) -> None:
    """Any RFC 3339 instant, years 1 to 9999 and any offset: refused (naming the field and
    the range) exactly when eligibility would dead-letter the record the gateway writes."""
    body = benefits_granted(1, occurred_at=instant.isoformat())
    try:
        checked = check_event(body, OPS)
    except Invalid as exc:
        [error] = exc.errors
        assert error.path == "data.occurred_at"
        assert f"{date_range.FIRST_DAY}..{date_range.LAST_DAY}" in error.message
        with pytest.raises(InvalidEvent) as dead_lettered:
            check_dates("BenefitsGranted", {"occurred_at": instant})
        assert dead_lettered.value.reason == "date-out-of-range"
        return
    codec = CODECS[checked.topic.name]
    written = codec.decode(codec.encode(checked.type, checked.fields)).fields
    check_dates("BenefitsGranted", written)  # what eligibility reads: not dead-lettered


@pytest.mark.parametrize(
    "instant",
    [
        "0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59.999Z",
        "3000-01-01T00:00:00Z",
        "9999-01-01T00:00:00Z",
        "9999-12-31T23:00:00-05:00",
    ],
)
def test_an_occurred_at_past_the_services_range_is_refused(instant: str) -> None:
    assert paths(benefits_granted(1, occurred_at=instant)) == ["data.occurred_at"]
    check_event(benefits_granted(1, occurred_at="1900-01-01T00:00:00Z"), OPS)
    check_event(benefits_granted(1, occurred_at="2999-12-31T23:59:59.999Z"), OPS)


NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)


def refused(body: Any, now: dt.datetime | None = NOW) -> dict[str, str]:
    with pytest.raises(Invalid) as refusal:
        check_event(body, OPS, now)
    return {e.path: e.message for e in refusal.value.errors}


def test_a_400_names_every_field_at_fault_at_once() -> None:
    """A wrong type or symbol does not hide a date out of range, a future occurred_at, a
    bad PESEL or an end before its start: the partner fixes them all at once."""
    body = benefits_granted(1, granted_on="1850-01-01", occurred_at="2999-06-01T00:00:00Z")
    assert set(refused(body)) == {"data.granted_on", "data.occurred_at"}
    body = benefits_granted(
        1, person_id="00000000001", valid_until="2026-01-01", ops_code=None, occurred_at=1
    )
    assert set(refused(body)) == {
        "data.person_id",
        "data.valid_until",
        "data.ops_code",
        "data.occurred_at",
    }
    body = hours_reported(1, activity="DANCING", week_start="2026-03-03", hours=-1)
    assert set(refused(body)) == {"data.activity", "data.week_start", "data.hours"}


def test_a_day_out_of_range_and_a_wrong_type_are_both_named() -> None:
    body = hours_reported(1, activity="DANCING", occurred_at="3000-01-01T00:00:00Z")
    at_fault = refused(body)
    assert set(at_fault) == {"data.activity", "data.occurred_at"}
    assert "1900-01-01..2999-12-31" in at_fault["data.occurred_at"]


@given(ahead=st.integers(-(10**9), 10**9))
def test_an_occurred_at_later_than_the_gateway_clock_plus_the_skew_is_refused(ahead: int) -> None:
    """Up to 5 minutes ahead of the gateway's clock is an OPS clock running fast; later
    cannot have happened yet (it would make the person's real later events look stale)."""
    instant = NOW + dt.timedelta(seconds=ahead)
    body = benefits_granted(1, occurred_at=instant.isoformat())
    if instant > NOW + CLOCK_SKEW:
        assert "later than the gateway's clock" in refused(body)["data.occurred_at"]
    else:
        check_event(body, OPS, NOW)
    check_event(body, OPS)  # without a clock (the contract alone), only the range counts
