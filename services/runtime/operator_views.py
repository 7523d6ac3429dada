"""Operator views of one person's state: routed to the owning worker, behind a bearer token.

``GET <path with {pesel}>`` answers with the owning worker's view of the
person (Faust's ``table_route`` forwards a request that reaches another worker).
Reading it needs ``Authorization: Bearer $PAI_ADMIN_TOKEN``; with no token
configured the views are disabled rather than open. Logs show the PESEL masked.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

import faust
from faust.web import Request, Response, View

from services.runtime.identifiers import is_valid_pesel, mask_pesel
from services.runtime.settings import Settings

log = logging.getLogger(__name__)


def refusal(settings: Settings, request: Request) -> tuple[str, int] | None:
    """Why the request may not read an operator view and the HTTP status, or None."""
    token = settings.admin_token
    if token is None:
        return "operator views are disabled: set PAI_ADMIN_TOKEN", 403
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
        return "a valid bearer token (PAI_ADMIN_TOKEN) is required", 401
    return None


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
        @app.table_route(table=table, match_info="pesel")  # type: ignore[arg-type]
        async def get(self, request: Request, pesel: str) -> Response:
            refused = refusal(settings, request)
            if refused is not None:
                return self.json({"error": refused[0]}, status=refused[1])
            if not is_valid_pesel(pesel):
                return self.json({"error": "not a valid PESEL"}, status=400)
            raw = table.get(pesel.encode())
            if raw is None:
                return self.json({"error": "no events seen for this person"}, status=404)
            log.info("operator view %s of %s", path, mask_pesel(pesel))
            return self.json(render(pesel, raw))
