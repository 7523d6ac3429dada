"""The OPS partners: the YAML file named by ``PAI_PARTNERS_FILE``, read by the notifier
(webhooks to the OPS) and the gateway (events from the OPS).

Validated at start-up; every problem is reported with where it is
(``partners[2] (1465011).url: ...``) and never with a secret's value: a URL is
shown without userinfo and query (:mod:`services.runtime.partner_urls`, which also says
which URLs are accepted), a YAML syntax error by line and column only. A
secret is given by value (``secret``) or by the name of an environment variable
holding it (``secret_env``); either may be a list, and every secret listed signs
(Standard Webhooks rotation). ``events`` lists webhook types or ``["*"]``.

An OPS that posts events to the gateway also has an *inbound* secret
(``inbound_secret`` or ``inbound_secret_env``, the same forms), which it signs
its requests with; it may never be one of the secrets we sign webhooks with.
``inbound_rate_per_s`` and ``inbound_burst`` bound its requests (a token bucket).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.notifier.webhooks import TYPES
from services.runtime import partner_urls as urls
from services.runtime import signing

WEBHOOK_TYPES = frozenset(TYPES.values())
Purpose = Literal["webhooks", "inbound"]
"""Which keys a service reads: the notifier's webhook secrets or the gateway's inbound ones."""


class PartnersError(SystemExit):
    """The partners file cannot be used; the text says every problem found."""


class Partner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ops_code: str = Field(pattern=r"^\d{7}$", description="TERYT code of the gmina (7 digits)")
    name: str = Field(min_length=1)
    url: str
    secret: str | list[str] | None = Field(None, repr=False)
    secret_env: str | list[str] | None = None
    events: list[str] = Field(min_length=1)
    allow_http: bool = False
    allow_private_network: bool = False
    max_in_flight: int = Field(16, ge=1, le=256)
    inbound_secret: str | list[str] | None = Field(None, repr=False)
    inbound_secret_env: str | list[str] | None = None
    inbound_rate_per_s: float = Field(
        20.0, gt=0, le=10_000, description="Gateway: requests a second this OPS may send"
    )
    inbound_burst: int = Field(
        100, ge=1, le=100_000, description="Gateway: requests above the rate it may send at once"
    )

    @field_validator("events")
    @classmethod
    def _known_types(cls, events: list[str]) -> list[str]:
        unknown = [e for e in events if e != "*" and e not in WEBHOOK_TYPES]
        if unknown:
            raise ValueError(
                f"unknown webhook types {unknown}; use '*' or some of {sorted(WEBHOOK_TYPES)}"
            )
        return events

    @model_validator(mode="after")
    def _url_is_allowed(self) -> Partner:
        wrong = urls.problem(self.url, self.allow_http, self.allow_private_network)
        if wrong is not None:
            raise ValueError(wrong)
        if (self.secret is None) == (self.secret_env is None):
            raise ValueError("give exactly one of secret (the value) and secret_env (a variable)")
        if self.inbound_secret is not None and self.inbound_secret_env is not None:
            raise ValueError(
                "give at most one of inbound_secret (the value) and inbound_secret_env (a variable)"
            )
        return self

    def subscribes(self, webhook_type: str) -> bool:
        return "*" in self.events or webhook_type in self.events


class PartnerWithKeys(BaseModel):
    """A partner and the HMAC keys of its secrets (webhooks) and inbound secrets (gateway)."""

    model_config = ConfigDict(frozen=True)

    partner: Partner
    keys: tuple[bytes, ...] = Field(repr=False)
    inbound_keys: tuple[bytes, ...] = Field((), repr=False)


class PartnersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partners: list[Partner]


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _keys(
    values: list[str], env_names: list[str], env: Mapping[str, str], what: str = "secret"
) -> tuple[bytes, ...]:
    values = list(values)
    for name in env_names:
        if name not in env:
            raise ValueError(f"{what}_env: the environment variable {name} is not set")
        values.append(env[name])
    keys = []
    for n, value in enumerate(values):
        try:
            keys.append(signing.secret_key(value))
        except signing.InvalidSecret as exc:
            raise ValueError(f"{what} #{n + 1}: {exc}") from None
    return tuple(keys)


def _with_keys(partner: Partner, env: Mapping[str, str], purpose: Purpose) -> PartnerWithKeys:
    """The keys a service needs: the notifier's webhook secrets, or the gateway's inbound
    ones. Neither needs the other's environment variables (each pod is given only its own
    secrets); a webhook secret the gateway can see (by value, or its variable set) is
    compared with the inbound ones."""
    secret_env = _as_list(partner.secret_env)
    if purpose == "inbound":
        secret_env = [name for name in secret_env if name in env]
        inbound = _keys(
            _as_list(partner.inbound_secret),
            _as_list(partner.inbound_secret_env),
            env,
            "inbound_secret",
        )
    else:
        inbound = ()
    keys = _keys(_as_list(partner.secret), secret_env, env)
    if set(inbound) & set(keys):
        raise ValueError(
            "inbound_secret: the same secret as a webhook secret; the OPS signs its requests"
            " with a secret of its own (generate one: see docs/gateway.md)"
        )
    return PartnerWithKeys(partner=partner, keys=keys, inbound_keys=inbound)


def parse(
    data: Any, env: Mapping[str, str], source: str, purpose: Purpose = "webhooks"
) -> dict[str, PartnerWithKeys]:
    """Partners by ``ops_code`` from the file's parsed YAML; :class:`PartnersError` if invalid."""
    problems: list[str] = []
    try:
        parsed = PartnersFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_input=False, include_url=False):
            loc = ".".join(str(p) for p in err["loc"])
            loc = re.sub(r"^partners\.(\d+)", r"partners[\1]", loc)
            problems.append(f"  {loc}: {err['msg']}")
        raise PartnersError(f"invalid partners file {source}:\n" + "\n".join(problems)) from None
    found: dict[str, PartnerWithKeys] = {}
    for n, partner in enumerate(parsed.partners):
        where = f"partners[{n}] ({partner.ops_code})"
        if partner.ops_code in found:
            problems.append(f"  {where}: ops_code appears twice")
            continue
        try:
            found[partner.ops_code] = _with_keys(partner, env, purpose)
        except ValueError as exc:
            problems.append(f"  {where}.{exc}")
    if problems:
        raise PartnersError(f"invalid partners file {source}:\n" + "\n".join(problems))
    return found


def _where(exc: yaml.YAMLError) -> str:
    """Line and column of a YAML error, never the offending text: that line may hold a secret."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return "position unknown"
    return (
        f"line {mark.line + 1}, column {mark.column + 1};"
        " the line is not shown, it may hold a secret"
    )


def load(
    path: Path | None, env: Mapping[str, str] | None = None, purpose: Purpose = "webhooks"
) -> dict[str, PartnerWithKeys]:
    """Read and check ``PAI_PARTNERS_FILE``."""
    if path is None:
        raise PartnersError("PAI_PARTNERS_FILE is not set: the service needs its partners")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PartnersError(f"cannot read the partners file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PartnersError(f"the partners file {path} is not valid YAML ({_where(exc)})") from None
    return parse(data, os.environ if env is None else env, str(path), purpose)
