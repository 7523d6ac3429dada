"""Operator views of one person's state: behind a bearer token, then routed to the owning worker.

``GET <path with {pesel}>`` answers with the owning worker's view of the
person. Order matters: the request is **authenticated first** (``Authorization:
Bearer <token>``, one of the named operator tokens of :mod:`services.runtime.operators`;
with no token configured the views are disabled rather than open), its PESEL checked,
the read **recorded in the access log** under the token's name (``pai.audit.v1``; a
read that cannot be recorded is answered 503 and shows nothing), and only then, when
another worker owns the person's partition, forwarded to it. ``DELETE`` on the same
path (``pai forget``) erases the person in the owning worker, behind the same token.
The forwarded request carries no header of the caller's: instead of the token it
carries a short-lived proof (:func:`forward_proof`, an HMAC of method, the owner's
``host:port``, path and time under a key derived from every token, valid 30 s), so
the token itself never travels to the URL a worker advertises in the group
assignment, and a proof that reached one worker is worth nothing at another. A worker
that receives a forwarded request for a person it does not own (the partition moved
meanwhile) answers 503 instead of forwarding again. Logs show the PESEL masked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import faust
from aiohttp import web
from faust.web import Request, Response, View
from yarl import URL

from services.personal_data.person_records import AccessLog, RecordsUnavailable
from services.runtime import operators
from services.runtime.identifiers import is_valid_pesel, mask_pesel
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

FORWARDED = "x-pai-forwarded"
"""Header of a request one worker forwards to another: ``<unix time>.<proof>``."""
ERASURE_REASON = "x-pai-erasure-reason"
"""Header of a ``DELETE`` (an erasure): why, recorded in the access log with the fact."""
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


FORWARDED_CALLER = "forwarded"
"""The caller of a forwarded request: the worker that forwarded it recorded the read."""


def forwarding_secret(settings: Settings) -> str | None:
    """The secret forwarding proofs are made with, or None with no token configured."""
    tokens = settings.operator_tokens_by_name()
    return operators.forwarding_secret(tokens) if tokens else None


def authenticate(
    settings: Settings, request: Request, me: str = ""
) -> tuple[str | None, tuple[str, int] | None]:
    """(the caller's operator name, None), or (None, (why refused, HTTP status)).

    ``me``: this worker's ``host:port``, which a forwarded request's proof must name;
    a forwarded request's caller is :data:`FORWARDED_CALLER`."""
    tokens = settings.operator_tokens_by_name()
    if not tokens:
        return None, (
            "operator views are disabled: set PAI_OPERATOR_TOKENS or PAI_ADMIN_TOKEN",
            403,
        )
    forwarded = request.headers.get(FORWARDED)
    if forwarded is not None:
        secret = operators.forwarding_secret(tokens)
        if me and _valid_forward(secret, request.method, request.url.path, forwarded, me):
            return FORWARDED_CALLER, None
        return None, ("the forwarded request's proof is invalid or expired", 401)
    name = operators.identify(tokens, _bytes(request.headers.get("Authorization", "")))
    if name is None:
        return None, ("a valid operator bearer token is required", 401)
    return name, None


def refusal(settings: Settings, request: Request, me: str = "") -> tuple[str, int] | None:
    """Why the request may not read an operator view and the HTTP status, or None."""
    return authenticate(settings, request, me)[1]


def ingress_user(settings: Settings, request: Request) -> str | None:
    """The user the ingress vouched for (``PAI_OPERATOR_USER_HEADER``), or None."""
    header = settings.operator_user_header
    return request.headers.get(header) if header else None


def _ident(url: URL) -> tuple[str, int]:
    """Host and port of a worker URL, as Faust's router compares them."""
    return (url.host if url.scheme else url.path) or "", int(url.port or 80)


def worker_name(url: URL) -> str:
    """``host:port`` of a worker URL: what a forwarding proof is bound to."""
    host, port = _ident(url)
    return f"{host}:{port}"


async def forward_to_owner(
    client: aiohttp.ClientSession, owner: URL, path: str, token: str, method: str = "GET"
) -> web.Response:
    """``method path`` on the owning worker, carrying only the forwarding proof (no caller
    header)."""
    proof = forward_proof(token, method, path, int(time.time()), worker_name(owner))
    try:
        async with client.request(
            method,
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
    service: str,
    erase: Callable[[str], Awaitable[dict[str, Any]]] | None = None,
) -> None:
    """Serve ``path`` (with a ``{pesel}`` part): ``render(pesel, stored value)`` as JSON,
    each read recorded in the access log; with ``erase``, ``DELETE`` erases the person."""

    async def send(topic: str, key: bytes, value: bytes | None, partition: int) -> None:
        await app.producer.send_and_wait(topic, key, value, partition, None, None)

    access = AccessLog(send, settings.topic_partitions, service)

    async def routed(request: Request, pesel: str) -> tuple[Any, web.Response | None]:
        """(caller, None) when this worker answers; (caller, the answer) when another
        worker did; (None, the refusal) otherwise."""
        caller, refused = authenticate(settings, request, worker_name(app.conf.canonical_url))
        if refused is not None:
            return None, web.json_response({"error": refused[0]}, status=refused[1])
        if not is_valid_pesel(pesel):
            return None, web.json_response({"error": "not a valid PESEL"}, status=400)
        if caller != FORWARDED_CALLER and request.method == "DELETE":
            if settings.audit_hash_secret is None:
                return None, web.json_response(
                    {"error": "erasure is disabled: set PAI_AUDIT_HASH_SECRET"}, status=403
                )
            if not request.headers.get(ERASURE_REASON, "").strip():
                return None, web.json_response(
                    {"error": f"the {ERASURE_REASON} header must say why"}, status=400
                )
        try:
            owner: URL = app.router.key_store(table.name, pesel.encode())
        except KeyError:
            return None, web.json_response(
                {"error": "partitions are being assigned; try again"}, status=503
            )
        if _ident(owner) != _ident(app.conf.canonical_url):
            if caller == FORWARDED_CALLER:  # the partition moved while it was forwarded
                return None, web.json_response(
                    {"error": "the person's partition moved; try again"}, status=503
                )
            secret = forwarding_secret(settings)
            assert secret is not None  # authenticated above
            return caller, await forward_to_owner(
                app.http_client, owner, request.url.path, secret, request.method
            )
        return caller, None

    @app.page(path)
    class PersonView(View):
        async def get(self, request: Request, pesel: str) -> Response:
            caller, answer = await routed(request, pesel)
            if caller is None and answer is not None:  # refused
                return answer  # type: ignore[return-value]
            if answer is None:  # this worker owns the person
                raw = table.get(pesel.encode())
                if raw is None:
                    answer = web.json_response(
                        {"error": "no events seen for this person"}, status=404
                    )
                else:
                    answer = web.json_response(render(pesel, raw))
            if caller == FORWARDED_CALLER:  # the worker it was forwarded from records it
                return answer  # type: ignore[return-value]
            secret = settings.audit_hash_secret
            try:  # the read is recorded before it is answered; a PESEL not held is not
                await access.record_lookup(
                    answer.status == 200,
                    None if secret is None else secret.get_secret_value(),
                    pesel,
                    str(caller),
                    ingress_user(settings, request),
                    f"GET {path}",
                )
            except RecordsUnavailable as exc:
                log.warning("operator view %s of %s: %s", path, mask_pesel(pesel), exc)
                return self.json({"error": str(exc)}, status=503)
            log.info("operator view %s of %s by %s", path, mask_pesel(pesel), caller)
            return answer  # type: ignore[return-value]

        async def delete(self, request: Request, pesel: str) -> Response:
            if erase is None:
                return self.json({"error": "not here"}, status=405)
            caller, answer = await routed(request, pesel)
            if caller is None and answer is not None:  # refused
                return answer  # type: ignore[return-value]
            if answer is None:  # this worker owns the person
                removed = await erase(pesel)
                log.warning("person %s erased by %s", mask_pesel(pesel), caller)
                answer = web.json_response(removed)
            if caller == FORWARDED_CALLER or answer.status != 200:
                return answer  # type: ignore[return-value]
            secret = settings.audit_hash_secret
            assert secret is not None  # checked by routed
            try:
                await access.record_erasure(
                    secret.get_secret_value(),
                    pesel,
                    str(caller),
                    request.headers.get(ERASURE_REASON, ""),
                    [f"{service} table {table.name}"],
                )
            except RecordsUnavailable as exc:
                return self.json(
                    {"error": f"erased, but {exc}: send the request again to record it"},
                    status=503,
                )
            return answer  # type: ignore[return-value]
