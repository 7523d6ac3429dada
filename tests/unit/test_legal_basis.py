"""Every outcome of every rule set cites a provision the sources support (legal-basis.yaml)."""

from __future__ import annotations

import datetime as dt
import re

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.eligibility import rules
from services.notifier.webhooks import NoLegalBasis, webhook_for
from services.personal_data import legal_basis
from services.personal_data.legal_basis import LegalBasisError, parse
from services.runtime.codec import AvroCodec
from services.runtime.schemas import default_store
from services.scheduler import outbound
from services.scheduler.domain import Kind
from tests.unit.scheduler.registry import Registry

RULESETS = sorted(rules.RULESETS)
# what SPEC.md and the seeds support: art. 62a of the 2004 act (no paragraph is given
# there), the Civil Code articles on periods, the 2019 act by its Dz.U. position
SUPPORTED = re.compile(
    r"^art\. 62a ustawy z dnia 20 kwietnia 2004 r\. o promocji zatrudnienia i instytucjach"
    r" rynku pracy(, w brzmieniu po ustawie z dnia 26 kwietnia 2019 r\. \(Dz\.U\. 2019 poz\. 986\),"
    r" która zniosła profilowanie)?$"
    r"|^art\. 11[245] Kodeksu cywilnego \([^)]*\)$"
)


def _symbols(schema: str, enum: str) -> list[str]:
    def walk(node: object) -> list[str]:
        if isinstance(node, dict):
            if node.get("type") == "enum" and node.get("name") == enum:
                return [s for s in node["symbols"] if s != "UNKNOWN"]
            return [s for v in node.values() for s in walk(v)]
        if isinstance(node, list):
            return [s for v in node for s in walk(v)]
        return []

    return sorted(set(walk(default_store().current(schema).raw)))


@pytest.mark.parametrize("ruleset", RULESETS)
def test_every_reason_rejection_and_event_kind_maps_to_a_provision(ruleset: str) -> None:
    reasons = _symbols("eligibility-decisions", "IneligibilityReason")
    rejections = _symbols("scheduler-events", "RejectionReason")
    assert set(reasons) == {r.value for r in rules.Reason}
    data = legal_basis.current()
    for code in [*reasons, "ELIGIBLE", "PRIORITY"]:
        assert data.cite(ruleset, "eligibility", [code]), code
    for code in [*rejections, *(k.value for k in Kind if k is not Kind.REFERRAL_REJECTED)]:
        assert data.cite(ruleset, "scheduler", [code]), code


def test_provisions_cite_only_what_the_sources_support() -> None:
    for key, text in legal_basis.current().provisions.items():
        assert SUPPORTED.match(text), (key, text)
        assert not re.search(r"ust\.|§|pkt|par\.", text), f"{key}: a paragraph the sources lack"


def test_no_profile_follows_the_2019_act_and_seed_the_act_as_in_the_seeds() -> None:
    [seed] = legal_basis.for_decision("seed", True, False, [])
    [no_profile] = legal_basis.for_decision("no-profile", True, False, [])
    assert "2019 poz. 986" in no_profile["provision"] and "2019" not in seed["provision"]


@given(
    st.sampled_from(RULESETS),
    st.booleans(),
    st.lists(
        st.sampled_from(["NOT_REGISTERED", "DEREGISTERED", "NO_SOCIAL_ASSISTANCE"]), unique=True
    ),
)
def test_a_decision_cites_its_outcome_and_every_reason(
    ruleset: str, priority: bool, reasons: list[str]
) -> None:
    eligible = not reasons
    cited = legal_basis.for_decision(ruleset, eligible, priority and eligible, reasons)
    applies = [c["applies_to"] for c in cited]
    assert set(reasons) <= set(applies)
    assert ("ELIGIBLE" in applies) == eligible
    assert all(c["provision"] for c in cited)


def test_a_code_without_a_provision_and_a_bad_file_are_refused() -> None:
    with pytest.raises(LegalBasisError, match="NEW_REASON"):
        legal_basis.current().cite("seed", "eligibility", ["NEW_REASON"])
    with pytest.raises(LegalBasisError, match="unknown"):
        parse({"version": 1, "provisions": {}, "rulesets": {"seed": {"eligibility": {"X": ["y"]}}}})
    with pytest.raises(LegalBasisError, match="extends itself"):
        parse({"version": 1, "provisions": {}, "rulesets": {"a": {"extends": "a"}}})
    with pytest.raises(LegalBasisError, match="version"):
        parse({"provisions": {}})


def test_a_rejection_cites_every_reason_on_the_wire_and_in_its_webhook() -> None:
    registry = Registry()
    registry.today = dt.date(2026, 2, 4)
    events = registry.refer("R1", dt.date(2026, 2, 4))  # no decision seen: NOT_ELIGIBLE
    events += registry.refer("R2", dt.date(2026, 2, 4), edition="NOPE")
    codec = AvroCodec("scheduler-events")
    now = dt.datetime(2026, 2, 4, 5, tzinfo=dt.UTC)
    rejected = [e for e in events if e.kind is Kind.REFERRAL_REJECTED]
    assert len(rejected) == 2
    for event in rejected:
        decoded = codec.decode(outbound.encode("44051401359", event, now))
        reasons = decoded.fields["reasons"]
        cited = {c["applies_to"] for c in decoded.fields["legal_basis"]}
        assert reasons and set(reasons) <= cited
        assert decoded.fields["legal_basis_version"] == legal_basis.current().version
        body = webhook_for(decoded.type, decoded.fields, "seed").body
        assert b'"legal_basis":[{"applies_to"' in body and b'"purpose":"' in body
        assert b'"legal_basis_version"' not in body  # the body's own, not data


def test_an_event_written_before_v3_gets_its_provisions_from_the_data() -> None:
    fields = {
        "event_id": "9d2f6b7e-8d43-4c1e-9a3c-3a1f0e0b8d11",
        "occurred_at": dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC),
        "person_id": "44051401359",
        "pup_code": "1465",
        "ops_code": "1465011",
        "referral_id": "R1",
        "cycle_id": "c-1",
        "due_on": dt.date(2026, 3, 9),
    }
    body = orjson.loads(webhook_for("ProfileReviewDue", fields, "seed").body)
    assert [c["applies_to"] for c in body["legal_basis"]] == ["ProfileReviewDue"] * 2
    assert any("art. 115 Kodeksu cywilnego" in c["provision"] for c in body["legal_basis"])


def _pre_v3_rejection(reasons: list[str]) -> dict[str, object]:
    """A ``ReferralRejected`` as read from a v1/v2 record: no ``legal_basis``, no rule set."""
    return {
        "event_id": "5b0c8f5e-1f0e-4c55-9d0e-7f3b8b7a2c10",
        "occurred_at": dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC),
        "person_id": "44051401359",
        "pup_code": "1465",
        "ops_code": "1465011",
        "referral_id": "R1",
        "edition_id": "ED-1",
        "start_on": dt.date(2026, 3, 9),
        "reasons": reasons,
        "legal_basis": [],  # the v3 reader's default
    }


def test_an_old_event_cites_the_configured_rule_set_unless_it_names_its_own() -> None:
    def provisions(record: str, fields: dict[str, object], ruleset: str) -> list[str]:
        body = orjson.loads(webhook_for(record, fields, ruleset).body)
        return [c["provision"] for c in body["legal_basis"]]

    rejection = _pre_v3_rejection(["NOT_ELIGIBLE"])
    assert all("2019" in p for p in provisions("ReferralRejected", rejection, "no-profile"))
    assert not any("2019" in p for p in provisions("ReferralRejected", rejection, "seed"))
    decision = {
        **_pre_v3_rejection([]),
        "eligible": True,
        "priority": False,
        "ruleset": "seed",  # the decision says which rule set decided it: that one counts
    }
    assert not any("2019" in p for p in provisions("EligibilityDecision", decision, "no-profile"))


@pytest.mark.parametrize(
    ("record", "fields", "named"),
    [
        ("ReferralRejected", _pre_v3_rejection([]), "cites no reason"),
        ("ReferralRejected", _pre_v3_rejection(["UNKNOWN"]), "UNKNOWN"),
        ("EligibilityDecision", {**_pre_v3_rejection([]), "ruleset": "2031-act"}, "2031-act"),
    ],
)
def test_an_event_with_no_provision_to_cite_is_no_webhook(
    record: str, fields: dict[str, object], named: str
) -> None:
    """Never a disclosure with an empty basis: the notifier dead-letters it (no-legal-basis)."""
    with pytest.raises(NoLegalBasis, match=named):
        webhook_for(record, fields, "seed")
