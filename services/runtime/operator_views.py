"""Operator views of one person's state: behind a bearer token, then routed to the owning worker.

``GET <path with {pesel}>`` answers with the owning worker's view of the
person. Order matters: the request is **authenticated first** (``Authorization:
Bearer $PAI_ADMIN_TOKEN``; with no token configured the views are disabled
rather than open), its PESEL checked, and only then, when another worker owns
the person's partition, forwarded to it. The forwarded request carries no
header of the caller's: instead of the token it carries a short-lived proof
(:func:`forward_proof`, an HMAC of method, the owner's ``host:port``, path and
time under a key derived from the token, valid 30 s), so the token itself never
travels to the URL a worker advertises in the group assignment, and a proof that
reached one worker is worth nothing at another. A worker that receives a forwarded request
for a person it does not own (the partition moved meanwhile) answers 503
instead of forwarding again. Logs show the PESEL masked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import faust
from aiohttp import web
from faust.web import Request, Response, View
from yarl import URL

from services.runtime.identifiers import is_valid_pesel, mask_pesel
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

FORWARDED = "x-pai-forwarded"
"""Header of a request one worker forwards to another: ``<unix time>.<proof>``."""
FORWARD_VALID_S = 30
FORWARD_TIMEOUT_S = 10
MAX_FORWARDED_ANSWER = 4 * 1024 * 1024


def _forward_key(token: str) -> bytes:
    return hashlib.sha256(b"pai operator view forwarding\0" + token.encode()).digest()


def forward_proof(token: str, method: str, path: str, at: int, owner: str) -> str:
    """The value of :data:`FORWARDED` for a request to ``path`` on the worker ``owner``
    (``host:port``) made at ``at`` (Unix seconds): a proof for one worker and one path."""
    message = f"{at}.{method}.{owner}.{path}".encode("utf-8", "surrogateescape")
    mac = hmac.new(_forward_key(token), message, hashlib.sha256)
    return f"{at}.{base64.urlsafe_b64encode(mac.digest()).decode()}"


def _valid_forward(token: str, method: str, path: str, value: str, me: str) -> bool:
    at_text, _, _proof = value.partition(".")
    if not (at_text.isascii() and at_text.isdigit() and len(at_text) <= 12):
        return False
    if abs(time.time() - int(at_text)) > FORWARD_VALID_S:
        return False
    expected = forward_proof(token, method, path, int(at_text), me)
    return hmac.compare_digest(_bytes(value), expected.encode())


def _bytes(text: str) -> bytes:
    """A header value as bytes, whatever it holds (aiohttp keeps undecodable bytes as
    surrogates): comparing must never raise for what a client sent."""
    return text.encode("utf-8", "surrogateescape")


def refusal(settings: Settings, request: Request, me: str = "") -> tuple[str, int] | None:
    """Why the request may not read an operator view and the HTTP status, or None.

    ``me``: this worker's ``host:port``, which a forwarded request's proof must name."""
    token = settings.admin_token
    if token is None:
        return "operator views are disabled: set PAI_ADMIN_TOKEN", 403
    secret = token.get_secret_value()
    forwarded = request.headers.get(FORWARDED)
    if forwarded is not None:
        if me and _valid_forward(secret, request.method, request.url.path, forwarded, me):
            return None
        return "the forwarded request's proof is invalid or expired", 401
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(_bytes(given), f"Bearer {secret}".encode()):
        return "a valid bearer token (PAI_ADMIN_TOKEN) is required", 401
    return None


def _ident(url: URL) -> tuple[str, int]:
    """Host and port of a worker URL, as Faust's router compares them."""
    return (url.host if url.scheme else url.path) or "", int(url.port or 80)


def worker_name(url: URL) -> str:
    """``host:port`` of a worker URL: what a forwarding proof is bound to."""
    host, port = _ident(url)
    return f"{host}:{port}"


async def forward_to_owner(
    client: aiohttp.ClientSession, owner: URL, path: str, token: str
) -> web.Response:
    """``GET path`` on the owning worker, carrying only the forwarding proof (no caller header)."""
    proof = forward_proof(token, "GET", path, int(time.time()), worker_name(owner))
    try:
        async with client.get(
            owner.with_path(path),
            headers={FORWARDED: proof, "Accept": "application/json"},
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_S),
        ) as answer:
            body = await answer.content.read(MAX_FORWARDED_ANSWER)
            return web.Response(body=body, status=answer.status, content_type="application/json")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("operator view: the owning worker %s did not answer: %r", owner, exc)
        return web.json_response(
            {"error": "the worker that holds this person did not answer; try again"}, status=502
        )


def register_person_view(
    app: faust.App,
    settings: Settings,
    table: Any,
    path: str,
    render: Callable[[str, bytes], dict[str, Any]],
) -> None:
    """Serve ``path`` (with a ``{pesel}`` part): ``render(pesel, stored value)`` as JSON."""

    @app.page(path)
    class PersonView(View):
        async def get(self, request: Request, pesel: str) -> Response:
            refused = refusal(settings, request, worker_name(app.conf.canonical_url))
            if refused is not None:
                return self.json({"error": refused[0]}, status=refused[1])
            if not is_valid_pesel(pesel):
                return self.json({"error": "not a valid PESEL"}, status=400)
            try:
                owner: URL = app.router.key_store(table.name, pesel.encode())
            except KeyError:
                return self.json({"error": "partitions are being assigned; try again"}, status=503)
            if _ident(owner) != _ident(app.conf.canonical_url):
                if FORWARDED in request.headers:  # the partition moved while it was forwarded
                    return self.json(
                        {"error": "the person's partition moved; try again"}, status=503
                    )
                token = settings.admin_token
                assert token is not None  # authenticated above
                return await forward_to_owner(  # type: ignore[return-value]
                    app.http_client, owner, request.url.path, token.get_secret_value()
                )
            raw = table.get(pesel.encode())
            if raw is None:
                return self.json({"error": "no events seen for this person"}, status=404)
            log.info("operator view %s of %s", path, mask_pesel(pesel))
            return self.json(render(pesel, raw))
