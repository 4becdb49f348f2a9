"""A small FHIR R4 server for the tests, on 127.0.0.1 (imported by the FHIR test modules).

It keeps resources in memory and implements what the exporter and the push client rely on, with
real HTTP: ``POST /`` of a transaction Bundle (all or nothing: every entry's ``ifNoneExist``
conditional create or ``PUT Type/id``, then every ``urn:uuid:`` reference rewritten to the
server's ``Type/id``), ``GET /Type/id``, and searches ``GET /Type?identifier=system|value``,
``?patient=`` / ``?subject=`` and ``?code=system|code``. A bearer token is required. For failure
tests it can answer 503, or commit a transaction and then drop the connection without answering
(the answer lost on the way back), and it can be stopped and started again on the same port.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FhirTestStore:
    """Resources by type and id, and the transaction logic."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, dict[str, Any]]] = {}
        self.transactions = 0
        self.lock = threading.Lock()

    def count(self, resource_type: str) -> int:
        return len(self.resources.get(resource_type, {}))

    def search(self, resource_type: str, params: dict[str, list[str]]) -> list[dict[str, Any]]:
        out = []
        for resource in self.resources.get(resource_type, {}).values():
            if all(self._matches(resource, k, v) for k, values in params.items() for v in values):
                out.append(resource)
        return out

    @staticmethod
    def _matches(resource: dict[str, Any], key: str, value: str) -> bool:
        if key == "identifier":
            system, _, code = value.rpartition("|")
            idents = resource.get("identifier", [])
            idents = idents if isinstance(idents, list) else [idents]
            return any(i.get("system") == system and i.get("value") == code for i in idents)
        if key in ("patient", "subject"):
            return resource.get("subject", {}).get("reference") == value
        if key == "code":
            system, _, code = value.rpartition("|")
            return any(
                c.get("code") == code and (not system or c.get("system") == system)
                for c in resource.get("code", {}).get("coding", [])
            )
        raise KeyError(f"search parameter {key!r} is not supported by the test server")

    def transaction(self, bundle: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Apply a transaction Bundle all or nothing: (HTTP status, answer)."""
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
            return 400, _outcome("not a transaction Bundle")
        with self.lock:
            plan: list[tuple[str, str, dict[str, Any], str]] = []  # type, id, resource, status
            ids: dict[str, str] = {}
            for entry in bundle.get("entry", []):
                resource = dict(entry["resource"])
                rtype = resource["resourceType"]
                request = entry["request"]
                if request["method"] == "POST":
                    found = []
                    if request.get("ifNoneExist"):
                        found = self.search(rtype, parse_qs(request["ifNoneExist"]))
                    if len(found) > 1:
                        return 412, _outcome("ifNoneExist matched more than one resource")
                    if found:
                        ids[entry["fullUrl"]] = f"{rtype}/{found[0]['id']}"
                        plan.append((rtype, found[0]["id"], found[0], "200 OK"))
                        continue
                    new_id = str(uuid.uuid4())
                    ids[entry["fullUrl"]] = f"{rtype}/{new_id}"
                    plan.append((rtype, new_id, resource, "201 Created"))
                elif request["method"] == "PUT":
                    rtype_url, _, rid = request["url"].partition("/")
                    if rtype_url != rtype or not rid:
                        return 400, _outcome(f"bad PUT url {request['url']}")
                    ids[entry.get("fullUrl", "")] = f"{rtype}/{rid}"
                    status = "200 OK" if rid in self.resources.get(rtype, {}) else "201 Created"
                    plan.append((rtype, rid, resource, status))
                else:
                    return 400, _outcome(f"method {request['method']} not supported")
            stored = []
            for rtype, rid, resource, status in plan:
                if resource is not self.resources.get(rtype, {}).get(rid):  # new or replaced
                    resource = _resolve(resource, ids)
                    if resource is None:
                        return 400, _outcome("a reference does not resolve inside the Bundle")
                    resource["id"] = rid
                stored.append((rtype, rid, resource, status))
            for rtype, rid, resource, _status in stored:
                self.resources.setdefault(rtype, {})[rid] = resource
            self.transactions += 1
        return 200, {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [
                {"response": {"status": status, "location": f"{rtype}/{rid}"}}
                for rtype, rid, _r, status in stored
            ],
        }


def _resolve(resource: dict[str, Any], ids: dict[str, str]) -> dict[str, Any] | None:
    """``resource`` with every urn:uuid reference rewritten; None if one does not resolve."""
    broken = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "reference" and isinstance(value, str) and value.startswith("urn:"):
                    if value not in ids:
                        broken.append(value)
                    out[key] = ids.get(value, value)
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result = walk(resource)
    return None if broken else result


def _outcome(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": text}],
    }


class FhirTestServer:
    """The HTTP side: start on a free loopback port, stop, start again on the same port."""

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.store = FhirTestStore()
        self.port = 0
        self.fail_status: int | None = None
        """Answer every POST with this status (e.g. 503) while set."""
        self.drop_answers = 0
        """Commit this many more transactions, then drop the connection without answering."""
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def start(self) -> FhirTestServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def get(self, path: str) -> dict[str, Any]:
        """A read straight from the server over HTTP (as another client would)."""
        import urllib.request

        request = urllib.request.Request(
            f"{self.url}/{path.lstrip('/')}", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


class _Handler(BaseHTTPRequestHandler):
    owner: FhirTestServer

    def log_message(self, *args: Any) -> None:  # quiet tests
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.owner.token}":
            return True
        self._send(401, _outcome("bearer token missing or wrong"))
        return False

    def do_POST(self) -> None:
        self.owner.requests += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self._authorised():
            return
        if self.owner.fail_status is not None:
            self._send(self.owner.fail_status, _outcome("failing on purpose"))
            return
        if urlsplit(self.path).path.rstrip("/") != "/fhir":
            self._send(404, _outcome("transactions go to the base URL"))
            return
        status, answer = self.owner.store.transaction(json.loads(body))
        if self.owner.drop_answers > 0 and status == 200:
            self.owner.drop_answers -= 1
            self.close_connection = True
            self.connection.close()  # committed, but the answer never arrives
            return
        self._send(status, answer)

    def do_GET(self) -> None:
        if not self._authorised():
            return
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s][1:]  # after "fhir"
        store = self.owner.store
        if len(segments) == 2:
            found = store.resources.get(segments[0], {}).get(segments[1])
            if found is None:
                self._send(404, _outcome("no such resource"))
            else:
                self._send(200, found)
            return
        if len(segments) == 1:
            matches = store.search(segments[0], parse_qs(parts.query))
            self._send(
                200,
                {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "total": len(matches),
                    "entry": [
                        {"fullUrl": f"{self.owner.url}/{segments[0]}/{r['id']}", "resource": r}
                        for r in matches
                    ],
                },
            )
            return
        self._send(404, _outcome("not found"))
