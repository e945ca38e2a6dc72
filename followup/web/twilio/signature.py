"""``X-Twilio-Signature`` check, before anything else (CONTRACT §5).

The URL Twilio signed is the public one it called: ``PUBLIC_BASE_URL`` + the request's path and
query (behind a proxy the Host header is not to be trusted). The validator also tries the URL
with and without the default port, as Twilio signs either form.
"""

from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator


def signed_url(public_base_url: str, request: Request) -> str:
    query = request.query_string.decode("latin-1")
    return f"{public_base_url}{request.path}" + (f"?{query}" if query else "")


def is_valid(request: Request, public_base_url: str, auth_token: str | None) -> bool:
    """True only for a request signed with our auth token over exactly this URL and these params."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(signed_url(public_base_url, request), request.form, signature))
