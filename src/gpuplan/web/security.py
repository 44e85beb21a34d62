"""Request guards of the web app, as plain ASGI middleware: body size, token, CSRF.

- Bodies over ``max_body_bytes`` are refused with 413 (checked on the bytes received, not
  only the Content-Length header).
- With a token (required when serving beyond loopback), every request must carry it: an
  ``Authorization: Bearer`` header, or the ``gpuplan_token`` cookie that a first visit with
  ``?token=...`` sets.
- Cross-site requests: a POST/PUT/PATCH/DELETE whose ``Origin`` is not this host is refused,
  the API refuses form bodies (a cross-site form can only send those), and the pages' forms
  must echo the ``gpuplan_csrf`` cookie in a ``csrf`` field (double-submit cookie).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "gpuplan_token"
CSRF_COOKIE = "gpuplan_csrf"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header counts as no cookies
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


async def _refuse(send: Send, status: int, field: str, message: str) -> None:
    body = json.dumps({"field": field, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Size limit, token check and CSRF check in front of the app."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, token: str | None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        cookies = _cookies(headers)
        set_cookie: list[tuple[bytes, bytes]] = []
        if self.token is not None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (
                headers.get("authorization", "").removeprefix("Bearer ").strip()
                or cookies.get(TOKEN_COOKIE)
                or (query.get("token") or [""])[0]
            )
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                await _refuse(send, 401, "token", "this server needs its access token: send "
                              "'Authorization: Bearer TOKEN' or open any page once with "
                              "?token=TOKEN.")
                return
            if cookies.get(TOKEN_COOKIE) != self.token:
                set_cookie.append((b"set-cookie", f"{TOKEN_COOKIE}={self.token}; HttpOnly; "
                                   "SameSite=Strict; Path=/".encode()))
        method = scope["method"]
        if method in UNSAFE_METHODS:
            problem = self._cross_site(headers, scope["path"])
            if problem:
                await _refuse(send, 403, "csrf", problem)
                return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await _refuse(send, 413, "body", f"request body over {self.max_body_bytes:,} bytes.")
            return
        csrf = cookies.get(CSRF_COOKIE)
        if not csrf and not scope["path"].startswith("/api/"):  # only pages have forms
            csrf = secrets.token_urlsafe(24)
            set_cookie.append((b"set-cookie", f"{CSRF_COOKIE}={csrf}; HttpOnly; "
                               "SameSite=Strict; Path=/".encode()))
        scope.setdefault("state", {})["csrf"] = csrf or ""
        await self.app(scope, self._limited(receive), self._with_cookies(send, set_cookie))

    @staticmethod
    def _cross_site(headers: dict[str, str], path: str) -> str | None:
        """Why an unsafe request looks cross-site (None if it does not). Form posts to pages
        are checked against the CSRF cookie by :func:`check_form_token`."""
        origin = headers.get("origin")
        if origin and urlsplit(origin).netloc != headers.get("host"):
            return f"cross-site request from {origin} refused."
        if path.startswith("/api/") and headers.get("content-type", "").startswith(FORM_TYPES):
            return "the API takes JSON bodies (Content-Type: application/json), not forms."
        return None

    def _limited(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes

        async def wrapped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return wrapped

    @staticmethod
    def _with_cookies(send: Send, cookies: list[tuple[bytes, bytes]]) -> Send:
        if not cookies:
            return send

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cookies]
            await send(message)

        return wrapped


def check_form_token(cookies: dict[str, str], given: str | None) -> bool:
    """True when a form's ``csrf`` field equals the ``gpuplan_csrf`` cookie."""
    expected = cookies.get(CSRF_COOKIE)
    return bool(expected and given and hmac.compare_digest(expected, given))


class BodyTooLarge(Exception):
    """A streamed request body went over the limit (answered 413)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body over {limit:,} bytes.")
