"""Who may read the operator views: a bearer token equal to ``PAI_ADMIN_TOKEN``.

With no token configured the views are disabled rather than open.
"""

from __future__ import annotations

import hmac

from faust.web import Request

from services.runtime.settings import Settings


def refusal(settings: Settings, request: Request) -> tuple[str, int] | None:
    """Why the request may not read an operator view and the HTTP status, or None."""
    token = settings.admin_token
    if token is None:
        return "operator views are disabled: set PAI_ADMIN_TOKEN", 403
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
        return "a valid bearer token (PAI_ADMIN_TOKEN) is required", 401
    return None
