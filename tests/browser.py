"""A headless Chromium driven through the DevTools protocol over a pipe (the browser
reads commands on its fd 3 and writes answers on fd 4, as JSON separated by NUL bytes):
enough of it to load a page, read what it logged, run a line of JavaScript and take a
screenshot, with nothing but the standard library and Debian's ``chromium``."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The path of a Chromium on PATH, or None."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class Browser:
    """One headless Chromium with one tab; a context manager that kills it at the end."""

    def __init__(self, executable: str, width: int = 1280, height: int = 1000) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        self._profile = tempfile.TemporaryDirectory(
            prefix="perfectly-chromium-", ignore_cleanup_errors=True
        )
        args = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}",
            f"--window-size={width},{height}", "about:blank",
        ]  # fmt: skip

        def pipes_on_3_and_4() -> None:  # in the child, before it closes other fds
            reader = os.dup(to_browser_r)  # (either end may be fd 3 or 4 already)
            writer = os.dup(from_browser_w)
            os.dup2(reader, 3)
            os.dup2(writer, 4)

        self.proc = subprocess.Popen(
            args,
            pass_fds=(3, 4),  # kept open in the child: what pipes_on_3_and_4 put there
            preexec_fn=pipes_on_3_and_4,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helper processes too: killed as a group
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", tab=True)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            tab=True, width=width, height=height, deviceScaleFactor=1, mobile=False,
        )  # fmt: skip

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        try:  # closed by its own command, then its whole process group killed
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except (OSError, EOFError, RuntimeError, subprocess.TimeoutExpired):
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._profile.cleanup()

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            data = os.read(self._from_browser, 1 << 16)
            if not data:
                raise EOFError("chromium closed its DevTools pipe")
            self._buffer += data
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, tab: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command (to the tab when ``tab``) and return its result; the events
        that arrive meanwhile are kept in ``events``."""
        self._id += 1
        command: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if tab:
            command["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the tab."""
        answer = self.send("Runtime.evaluate", tab=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def load(self, url: str, timeout: float = 30.0) -> None:
        """Open url and wait for its load event, then for the page's scripts to settle."""
        self.events.clear()
        self.send("Page.navigate", tab=True, url=url)
        self.wait_for("document.readyState === 'complete'", timeout)
        time.sleep(0.3)

    def wait_for(self, condition: str, timeout: float = 30.0) -> None:
        """Poll a JavaScript condition until it holds; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(condition):
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true after {timeout} s: {condition}")
            time.sleep(0.1)

    def errors(self) -> list[str]:
        """What the page logged as an error since it was loaded: console errors, uncaught
        exceptions and failed loads (a missing image, script or style sheet)."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append(" ".join(str(a.get("value", a)) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}")
        return found

    def screenshot(self, path: str | os.PathLike[str]) -> None:
        """Save the visible part of the tab as a PNG."""
        data = self.send("Page.captureScreenshot", tab=True, format="png")["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))
