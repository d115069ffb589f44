"""A local HTTP server that replays publisher responses built by the tests.

Use the ``fake_http`` fixture (tests/conftest.py): ``fake_http.route(path, handler)``
where ``handler(query: dict[str, str]) -> (status, content_type, body_bytes)``,
and ``fake_http.url`` as the base address. ``fake_http.requests`` records every
(path, query) asked for, ``fake_http.headers`` the request headers of each
(same order), ``fake_http.answered`` the status sent to each (None: hung up
or cut off part-way).

A handler may return ``None`` to drop the connection without an answer, a
fourth item, the Content-Length to announce (announcing more than the body
sends a download that breaks off part-way: a publisher going away
mid-download; None announces the body's length), and a fifth, a dict of
extra response headers (``Retry-After``, ``ETag``, ``Content-Range``...). A
handler with ``wants_headers = True`` is called as ``handler(query, headers)``
(to answer ``Range`` requests). ``fake_http.fallback``, when set, is
``handler(path, query)`` for paths with no route (e.g. an ArcGIS host
answering "Invalid URL" for a service it does not have); otherwise such
paths get a 404 HTML page.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):  # a client that gave up
            super().handle_error(request, client_address)


class FakePublisher:
    def __init__(self, port: int = 0):
        """``port`` 0 picks a free one; an earlier server's port gives the same addresses (the same cache keys)."""
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, dict]] = []
        self.headers: list[dict[str, str]] = []
        self.answered: list[int | None] = []
        self.fallback = None
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server API)
                parsed = urlparse(self.path)
                query = dict(parse_qsl(parsed.query, keep_blank_values=True))
                headers = {k: v for k, v in self.headers.items()}
                with owner.lock:
                    owner.requests.append((parsed.path, query))
                    owner.headers.append(headers)
                    index = len(owner.requests) - 1
                    owner.answered.append(None)
                handler = owner.routes.get(parsed.path)
                if handler is not None:
                    answer = handler(query, headers) if getattr(handler, "wants_headers", False) else handler(query)
                elif owner.fallback is not None:
                    answer = owner.fallback(parsed.path, query)
                else:
                    answer = 404, "text/html", b"<html><body>Not found</body></html>"
                if answer is None:  # hang up without answering
                    self.close_connection = True
                    return
                status, ctype, body = answer[:3]
                length = answer[3] if len(answer) > 3 and answer[3] is not None else len(body)
                extra = answer[4] if len(answer) > 4 else {}
                owner.answered[index] = status if length == len(body) else None  # a cut-off answer did not arrive
                if length != len(body):
                    self.close_connection = True
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(length))
                for name, value in extra.items():
                    self.send_header(name, str(value))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path: str, handler) -> None:
        self.routes[path] = handler

    def answered_ok(self) -> list[tuple[str, dict]]:
        """The requests that got a complete 2xx answer (path, query)."""
        return [r for r, status in zip(self.requests, self.answered) if status is not None and status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
