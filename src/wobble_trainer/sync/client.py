"""Talking to the hub over HTTP(S): JSON requests with the board's credentials, clear errors.

Only the standard library (:mod:`http.client`), with a timeout on every request, so a hub that
stops answering makes a sync fail quickly instead of hanging.
"""

from __future__ import annotations

import http.client
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

DEFAULT_TIMEOUT_S = 30.0


class HubError(RuntimeError):
    """The hub could not be reached or refused a request; the message says what to do."""


class HubUnreachable(HubError):
    """No answer (network cut, hub down, timeout): try again later, nothing is lost."""


class HubRefused(HubError):
    """The hub refused the board's credentials (not linked, or revoked)."""


class HubClient:
    """Requests to one hub, as one board (or anonymously, for linking)."""

    def __init__(
        self,
        url: str,
        board_id: int | None = None,
        secret: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HubError(f"{url!r} is not a hub address: give http://HOST:PORT or https://HOST")
        self.url = url.rstrip("/")
        self._parts = parts
        self._auth = f"Board {board_id}:{secret}" if board_id is not None and secret else None
        self.timeout_s = timeout_s
        self._ssl = ssl_context

    def _connection(self) -> http.client.HTTPConnection:
        p = self._parts
        if p.scheme == "https":
            return http.client.HTTPSConnection(
                p.hostname,
                p.port,
                timeout=self.timeout_s,
                context=self._ssl or ssl.create_default_context(),
            )
        return http.client.HTTPConnection(p.hostname, p.port, timeout=self.timeout_s)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` as JSON to ``path``; the decoded JSON answer."""
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        if self._auth:
            headers["Authorization"] = self._auth
        return self._request("POST", path, data, headers)

    def get(self, path: str) -> Any:
        headers = {"Authorization": self._auth} if self._auth else {}
        return self._request("GET", path, None, headers)

    def _request(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> Any:
        base = self._parts.path.rstrip("/")
        conn = self._connection()
        try:
            conn.request(method, base + path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise HubUnreachable(
                f"the hub at {self.url} did not answer ({exc}); the board keeps working and "
                "will send everything at the next sync"
            ) from exc
        finally:
            conn.close()
        try:
            answer = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            answer = {"error": raw[:200].decode(errors="replace")}
        if response.status == 401:
            raise HubRefused(answer.get("error") or "the hub refused this board's credentials")
        if response.status >= 500:
            raise HubUnreachable(
                f"the hub at {self.url} had an error ({response.status}); "
                "nothing was lost, the next sync sends it again"
            )
        if response.status >= 400:
            raise HubError(answer.get("error") or f"the hub answered {response.status}")
        return answer
