"""Which webhook an event becomes: its type and its JSON body.

Eligibility decisions and scheduler events map one to one onto the webhook
types of SPEC.md; the body is ``{"type", "timestamp", "legal_basis", "purpose", "data"}``
with the event's fields as ``data`` (dates as ``YYYY-MM-DD``, instants as RFC 3339 UTC),
the provisions the event applies as ``legal_basis`` (from the event; for a record written
before events carried them, from the legal basis data under the rule set the event names,
else the configured one, ``PAI_RULESET``) and the purpose of the disclosure its type
declares (:mod:`services.personal_data.declarations`). An event with no provision to cite
is :class:`NoLegalBasis`: no webhook discloses a person's data on no stated basis.
``docs/webhooks.openapi.yaml`` documents every type; the tests check what is
sent against it. Pure: no Kafka, HTTP or Avro here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from services.personal_data import legal_basis
from services.personal_data.declarations import declaration

TYPES: dict[str, str] = {
    "EligibilityDecision": "pai.eligibility.changed",
    "ReferralAccepted": "pai.referral.accepted",
    "ReferralRejected": "pai.referral.rejected",
    "CycleStarted": "pai.cycle.started",
    "CycleEndingSoon": "pai.cycle.ending_soon",
    "CycleEnded": "pai.cycle.ended",
    "ProfileReviewDue": "pai.profile_review.due",
    "ProfileReviewOverdue": "pai.profile_review.overdue",
    "ProfileReviewRecorded": "pai.profile_review.completed",
    "CapExhausted": "pai.cap.exhausted",
    "ExclusivityConflict": "pai.exclusivity.conflict",
    "IntegrationHoursShortfall": "pai.integration_hours.shortfall",
    "PsuHoursExceeded": "pai.psu_hours.exceeded",
}


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook for one partner: the same id and body on every attempt and replay."""

    webhook_id: str
    type: str
    ops_code: str | None
    body: bytes


class NotAWebhook(ValueError):
    """An event of a kind no webhook type exists for."""


class NoLegalBasis(ValueError):
    """An event carries no provision and the legal basis data gives none for it."""


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def webhook_for(record_type: str, fields: dict[str, Any], ruleset: str) -> Webhook:
    """The webhook an event becomes; its id is the event's id. ``ruleset`` is the configured
    rule set, for an event that carries neither its provisions nor its rule set."""
    webhook_type = TYPES.get(record_type)
    if webhook_type is None:
        raise NotAWebhook(f"no webhook type for {record_type} events")
    data = {name: _json_value(value) for name, value in fields.items() if name not in _NOT_DATA}
    body = orjson.dumps(
        {
            "type": webhook_type,
            "timestamp": data["occurred_at"],
            "legal_basis": fields.get("legal_basis") or _looked_up(record_type, fields, ruleset),
            "purpose": declaration(webhook_type).purpose,
            "data": data,
        }
    )
    return Webhook(str(fields["event_id"]), webhook_type, fields.get("ops_code"), body)


_NOT_DATA = frozenset({"legal_basis", "legal_basis_version"})
"""Event fields that are the body's own, not ``data``."""


def _looked_up(record_type: str, fields: dict[str, Any], configured: str) -> list[dict[str, str]]:
    """The provisions of an event written before events carried them (schema v1, v2), under
    the rule set it names (a decision), else the configured one (a scheduler event names
    none); :class:`NoLegalBasis` when the data cites nothing for it (an unknown rule set or
    reason, a rejection without reasons)."""
    ruleset = str(fields.get("ruleset") or configured)
    reasons = [str(r) for r in fields.get("reasons") or ()]
    try:
        if record_type == "EligibilityDecision":
            cited = legal_basis.for_decision(
                ruleset, bool(fields.get("eligible")), bool(fields.get("priority")), reasons
            )
        else:
            cited = legal_basis.for_scheduler_event(ruleset, record_type, reasons)
    except legal_basis.LegalBasisError as exc:
        raise NoLegalBasis(f"{record_type} carries no legal_basis and {exc}") from exc
    if not cited:
        raise NoLegalBasis(f"{record_type} carries no legal_basis and cites no reason")
    return cited
