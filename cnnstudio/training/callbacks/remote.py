"""``RemoteMonitor``: POST each epoch's logs to a web server, with the standard library only."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

from .base import Callback


class RemoteMonitor(Callback):
    """Send ``{"epoch": ..., <logs>}`` to ``root + path`` after each epoch (Keras's arguments).

    By default the JSON goes in a form field named ``field``
    (``application/x-www-form-urlencoded``); ``send_as_json=True`` sends it as
    the request body (``application/json``).  A server that cannot be reached,
    answers with an error or is slower than ``timeout`` seconds only gives a
    warning: monitoring never stops training.
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/", field: str = "data",
                 headers: dict[str, str] | None = None, send_as_json: bool = False, timeout: float = 5.0) -> None:
        super().__init__()
        scheme = urllib.parse.urlsplit(root).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"RemoteMonitor: root must be an http:// or https:// address, not {root!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = dict(headers or {})
        self.send_as_json = send_as_json
        self.timeout = timeout
        self.failures = 0  # epochs whose logs did not arrive

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        send: dict[str, Any] = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if hasattr(value, "item") else value
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            content_type = "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.root + self.path, data=body, method="POST",
                                         headers={"Content-Type": content_type, **self.headers})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            self.failures += 1
            reason = getattr(error, "reason", None) or error
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root} ({reason})", RuntimeWarning,
                          stacklevel=2)
