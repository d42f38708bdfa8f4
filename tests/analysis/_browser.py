"""Headless Chromium driven over the DevTools protocol on a pipe (no extra package, no port).

``open_page`` loads a file at a given window size and returns what a test needs: resources
that failed to load, script errors, measurements taken in the page by a script, and PNG
screenshots of the first screen and of the whole page. Chromium reads commands on fd 3 and
writes replies on fd 4 (``--remote-debugging-pipe``), each a JSON message ending in a NUL.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT = 60.0


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Page:
    """What was seen when the page was opened."""

    failed: list[str] = field(default_factory=list)  # resources that did not load
    errors: list[str] = field(default_factory=list)  # script exceptions and console errors
    measured: Any = None  # the value of the measuring script
    first_screen: bytes = b""  # PNG of the viewport, as it opens
    full_page: bytes = b""  # PNG of the whole page at the state the script left it in


class _Pipe:
    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int):
        self.process, self.out, self.next_id = process, os.fdopen(to_browser, "wb"), 0
        self.replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, args=(os.fdopen(from_browser, "rb"),),
                         daemon=True).start()

    def _read(self, stream: Any) -> None:
        buffer = b""
        while chunk := stream.read1(65536):
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self.lock:
                        box = self.replies.setdefault(message["id"], queue.Queue())
                    box.put(message)
                else:
                    self.events.put(message)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            number = self.next_id
            box = self.replies.setdefault(number, queue.Queue())
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.out.write(json.dumps(message).encode() + b"\0")
        self.out.flush()
        reply = box.get(timeout=TIMEOUT)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    def wait_for(self, method: str, seen: list[dict[str, Any]]) -> None:
        while True:
            event = self.events.get(timeout=TIMEOUT)
            seen.append(event)
            if event.get("method") == method:
                return


def open_page(path: Path, script: str, width: int = 1400, height: int = 900) -> Page:
    """Open ``path`` at ``width`` x ``height``, screenshot it, run ``script``, screenshot again.

    ``script`` is a JavaScript expression; its value (JSON-able) is ``Page.measured``.
    """
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (Debian package `chromium`)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    to_read, to_browser = os.pipe()  # the browser reads commands on its fd 3
    from_browser, to_write = os.pipe()  # and writes replies on its fd 4

    def child_fds() -> None:  # move both ends out of the way first: either may be fd 3 or 4
        high_read = fcntl.fcntl(to_read, fcntl.F_DUPFD, 10)
        high_write = fcntl.fcntl(to_write, fcntl.F_DUPFD, 10)
        os.dup2(high_read, 3)
        os.dup2(high_write, 4)

    process = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
         "--no-first-run", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
         f"--window-size={width},{height}", "about:blank"],
        close_fds=False, preexec_fn=child_fds,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(to_read)
    os.close(to_write)
    pipe = _Pipe(process, to_browser, from_browser)
    try:
        return _visit(pipe, path, script, width, height)
    finally:
        with contextlib.suppress(RuntimeError, OSError, queue.Empty):
            pipe.send("Browser.close")
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _visit(pipe: _Pipe, path: Path, script: str, width: int, height: int) -> Page:
    target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"]
    for domain in ("Page", "Network", "Runtime", "Log"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.send("Emulation.setDeviceMetricsOverride",
              {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
              session=session)
    seen: list[dict[str, Any]] = []
    pipe.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
    pipe.wait_for("Page.loadEventFired", seen)
    page = Page()
    page.first_screen = b64decode(pipe.send("Page.captureScreenshot", {"format": "png"},
                                            session=session)["data"])
    result = pipe.send("Runtime.evaluate", {"expression": script, "returnByValue": True,
                                            "awaitPromise": True}, session=session)
    if "exceptionDetails" in result:
        raise RuntimeError(f"measuring script failed: {result['exceptionDetails']}")
    page.measured = result["result"].get("value")
    full_height = int(pipe.send("Runtime.evaluate", {
        "expression": "document.documentElement.scrollHeight", "returnByValue": True},
        session=session)["result"]["value"])
    page.full_page = b64decode(pipe.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": full_height, "scale": 1}},
        session=session)["data"])
    while not pipe.events.empty():
        seen.append(pipe.events.get())
    for event in seen:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.loadingFailed":
            page.failed.append(f"{params.get('errorText')}: request {params.get('requestId')}")
        elif method == "Runtime.exceptionThrown":
            page.errors.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            page.errors.append(str(params["entry"].get("text")))
    return page
