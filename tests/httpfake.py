"""A local HTTP server that replays publisher responses built by the tests.

Use the ``fake_http`` fixture (tests/conftest.py): ``fake_http.route(path, handler)``
where ``handler(query: dict[str, str]) -> (status, content_type, body_bytes)``,
and ``fake_http.url`` as the base address. ``fake_http.requests`` records every
(path, query) asked for.

A handler may return ``None`` to drop the connection without an answer, or
a fourth item, the Content-Length to announce: announcing more than the
body sends a download that breaks off part-way (a publisher going away
mid-download). ``fake_http.fallback``, when set, is
``handler(path, query)`` for paths with no route (e.g. an ArcGIS host
answering "Invalid URL" for a service it does not have); otherwise such
paths get a 404 HTML page.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse


class FakePublisher:
    def __init__(self):
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, dict]] = []
        self.fallback = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                parsed = urlparse(self.path)
                query = dict(parse_qsl(parsed.query, keep_blank_values=True))
                owner.requests.append((parsed.path, query))
                handler = owner.routes.get(parsed.path)
                if handler is not None:
                    answer = handler(query)
                elif owner.fallback is not None:
                    answer = owner.fallback(parsed.path, query)
                else:
                    answer = 404, "text/html", b"<html><body>Not found</body></html>"
                if answer is None:  # hang up without answering
                    self.close_connection = True
                    return
                status, ctype, body = answer[:3]
                length = answer[3] if len(answer) > 3 else len(body)
                if length != len(body):
                    self.close_connection = True
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path: str, handler) -> None:
        self.routes[path] = handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
