"""Partner URLs: which ones the notifier accepts, and how a URL is shown in a message.

A partner's ``url`` is checked when the partners file loads, on the URL as the
HTTP client will use it (``httpx.URL``: the parse and normalisation the client
applies), so that what is checked is what is connected to:

- ``http`` or ``https`` only (``http`` needs ``allow_http``), with a host, a port
  from 1 to 65535, no user name or password (the signature authenticates a
  webhook; userinfo would only leak) and no fragment;
- the host is written in ASCII: an international name in its ``xn--`` form. A
  non-ASCII host is refused outright, not normalised: ``127。0。0。1`` (IDNA dots)
  or full-width letters would otherwise be checked as one string and connected
  to as another;
- the host is an IP literal in its canonical form (dotted-quad IPv4, bracketed
  IPv6) or a DNS name of letters, digits, hyphens (and underscores, which some
  DNS names carry) whose last label is not a number: ``2130706433``,
  ``0x7f.1``, ``127.1`` or ``0177.0.0.1``, which C libraries read as IP
  addresses, are neither;
- unless ``allow_private_network``, an IP literal must be an address
  :mod:`services.notifier.addresses` allows. Names (``localhost`` included) are
  checked on every address they resolve to, at connect time, and literals
  again there too (:mod:`services.notifier.guard`).

Messages show a URL only through :func:`redact` (``scheme://host[:port]/path``:
no userinfo, query or fragment, which may hold credentials).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from services.notifier import addresses

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact(url: str) -> str:
    """``url`` as ``scheme://host[:port]/path``: without userinfo, query and fragment.

    Errs towards hiding: anything up to the last ``@`` before the query goes.
    """
    scheme, _, rest = url.partition("://")
    if not rest:
        return "<not a URL>"
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    return f"{scheme}://{rest.rpartition('@')[2]}"


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted (error messages of HTTP libraries)."""
    return _URL_IN_TEXT.sub(lambda m: redact(m.group(0)), text)


def _host_problem(host: str) -> str | None:
    if addresses.is_ip_literal(host):
        return None
    name = host.removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        return "is not a host name (letters, digits, hyphens) nor an IP address"
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        return (
            "is not a host name nor a canonical IP address (write IPv4 as four"
            " decimal numbers, e.g. 192.0.2.10)"
        )
    return None


def problem(url: str, allow_http: bool, allow_private_network: bool) -> str | None:
    """Why ``url`` cannot be a partner's URL, or None. The text shows the URL redacted."""
    shown = redact(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"url {shown} is not a valid URL"
    if parts.scheme not in ("https", "http"):
        return f"url {shown} is not an http(s) URL"
    if not parts.netloc.isascii():
        return (
            f"url {shown}: the host must be written in ASCII (an international name in"
            " its xn-- form)"
        )
    if "@" in parts.netloc:
        return (
            f"url {shown}: a user name or password in the URL is not supported"
            " (the webhook signature authenticates the notifier)"
        )
    if parts.fragment or url.endswith("#"):
        return f"url {shown}: remove the fragment (#...), it is never sent"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"url {shown}: the HTTP client cannot use it ({redact_text(str(exc))})"
    host = parsed.raw_host.decode("ascii")  # as sent (.host would decode xn-- names)
    if not host:
        return f"url {shown} has no host"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return f"url {shown}: the port must be from 1 to 65535"
    wrong = _host_problem(host)
    if wrong is not None:
        return f"url {shown}: the host {wrong}"
    if parts.scheme == "http" and not allow_http:
        return f"url {shown} is not https; set allow_http: true for development"
    if not allow_private_network and addresses.is_ip_literal(host):
        reason = addresses.refusal(host)
        if reason:
            return f"url {shown}: {reason}; set allow_private_network: true"
    return None
