"""An HTTP webhook receiver for tests: records every POST (path, headers, body, time)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Hook:
    """Answers 503 to the first ``failures`` requests, then 200."""

    def __init__(self, failures: int = 0) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes, float]] = []
        self.failures = failures
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.failures > 0:
                    hook.failures -= 1
                    self.send_response(503)
                else:
                    hook.requests.append((self.path, dict(self.headers), body, time.time()))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, path: str = "/hook") -> list[Any]:
        return [json.loads(b) for p, _, b, _ in self.requests if p == path]

    def alert_ids(self) -> list[str]:
        return [a["alert_id"] for doc in self.bodies() for a in doc["alerts"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
