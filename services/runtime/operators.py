"""Who an operator is: named bearer tokens, so the access log can say who read a person.

``PAI_OPERATOR_TOKENS`` holds ``name:token`` pairs (separated by commas, spaces or new
lines; a Kubernetes Secret key mounted as that variable); ``PAI_ADMIN_TOKEN``, the single
token of earlier versions, keeps working as one more token named ``PAI_ADMIN_OPERATOR_NAME``
(``admin`` by default), so a deployment that sets only it changes nothing. Every token has
at least 32 characters and a name of letters, digits and ``._@-``; names and tokens are
unique. A request is identified by comparing its bearer token with every token in
constant time. The key that signs forwarded operator requests is derived from all tokens,
so every worker of a deployment derives the same one.
"""

from __future__ import annotations

import hashlib
import hmac
import re

NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_TOKEN = 32
DEFAULT_ADMIN_NAME = "admin"


class OperatorTokensError(ValueError):
    """A malformed ``PAI_OPERATOR_TOKENS``; the message never shows a token."""


def parse_tokens(text: str) -> dict[str, str]:
    """``name:token`` pairs → {name: token}; OperatorTokensError naming the entry at fault."""
    tokens: dict[str, str] = {}
    for number, entry in enumerate(re.split(r"[,\s]+", text.strip()), start=1):
        if not entry:
            continue
        name, sep, token = entry.partition(":")
        if not sep or not NAME.match(name):
            raise OperatorTokensError(
                f"entry {number}: expected name:token with a name of letters, digits and ._@-"
            )
        if len(token) < MIN_TOKEN:
            raise OperatorTokensError(
                f"entry {number} ({name}): the token has {len(token)} characters;"
                f" at least {MIN_TOKEN} are needed (e.g. `openssl rand -base64 32`)"
            )
        if name in tokens:
            raise OperatorTokensError(f"entry {number}: the name {name} is given twice")
        if token in tokens.values():
            raise OperatorTokensError(f"entry {number} ({name}): the same token as another name")
        tokens[name] = token
    return tokens


def combined(named: dict[str, str], admin: str | None, admin_name: str) -> dict[str, str]:
    """Every token by name: the named ones and ``PAI_ADMIN_TOKEN`` under ``admin_name``."""
    tokens = dict(named)
    if admin is not None:
        if admin_name in tokens and tokens[admin_name] != admin:
            raise OperatorTokensError(
                f"PAI_ADMIN_OPERATOR_NAME {admin_name} is also a name in PAI_OPERATOR_TOKENS"
            )
        if admin in tokens.values() and tokens.get(admin_name) != admin:
            raise OperatorTokensError("PAI_ADMIN_TOKEN is also a token in PAI_OPERATOR_TOKENS")
        tokens[admin_name] = admin
    return tokens


def identify(tokens: dict[str, str], authorization: bytes) -> str | None:
    """The name of the token an ``Authorization`` header carries, or None. Every token is
    compared, in constant time, whatever matches first."""
    found: str | None = None
    for name, token in tokens.items():
        if hmac.compare_digest(authorization, f"Bearer {token}".encode()):
            found = name
    return found


def forwarding_secret(tokens: dict[str, str]) -> str:
    """The secret forwarded operator requests are proven with: from every token."""
    digest = hashlib.sha256(b"pai operator tokens\0")
    for name in sorted(tokens):
        digest.update(f"{name}\0{tokens[name]}\0".encode())
    return digest.hexdigest()
