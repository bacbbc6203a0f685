"""Writing results to stdout so that nothing is lost or half-written.

Each `echo` writes whole lines and flushes them, so a reader of a pipe sees every step as soon
as it is computed.  A closed pipe or a full disk ends the command with one line (OutputError);
when stdout is a regular file, a line cut short by a full disk is removed again, so the file
ends with the last complete line.  Ctrl-C and SIGTERM arriving while a line is written wait
until it is complete (`stop_signals`), so a JSON line is never cut in half.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
import time

from ..errors import OutputError

_state = {"writing": False, "pending": None, "progress": None}
_terminal = threading.Lock()  # a progress line and a line of output never interleave


class Stopped(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM: the command stops, keeping what it has printed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # 130 for SIGINT, 143 for SIGTERM, as shells report them


def _on_signal(signum, frame):
    if _state["writing"]:
        _state["pending"] = signum  # finish the line first
        return
    raise Stopped(signum)


def stop_signals() -> dict:
    """Make Ctrl-C and SIGTERM stop the command cleanly; returns the handlers to restore."""
    return {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}


def ignore_signals() -> None:
    """While the last line is printed after a stop, a second Ctrl-C changes nothing."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def restore_signals(old: dict) -> None:
    for sig, handler in old.items():
        signal.signal(sig, handler)


def _file_position(stream) -> tuple[int, int] | None:
    """(fd, offset) when the stream is a regular file, to undo a partial line."""
    try:
        fd = stream.fileno()
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd, os.lseek(fd, 0, os.SEEK_CUR)
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _silence_stdout() -> None:
    """After a failed write, point stdout at /dev/null so Python's own final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    sys.stdout = open(os.devnull, "w", encoding="utf-8")


def echo(text: str = "", nl: bool = True) -> None:
    """Write `text` (and a newline) to stdout whole, and flush it."""
    stream = sys.stdout
    data = text + ("\n" if nl else "")
    where = _file_position(stream)
    _state["writing"] = True
    try:
        with _terminal:
            if _state["progress"] is not None:
                _state["progress"].erase()  # redrawn below the output at its next refresh
            stream.write(data)
            stream.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise OutputError("stdout: the reading end of the pipe closed; the output stops there") from None
    except OSError as exc:
        if where is not None:
            os.ftruncate(*where)
        _silence_stdout()
        raise OutputError(f"stdout: cannot write ({exc.strerror or exc}); the output ends with the "
                          "last complete line") from None
    finally:
        _state["writing"] = False
    if _state["pending"] is not None:
        signum, _state["pending"] = _state["pending"], None
        raise Stopped(signum)


class Progress:
    """What a command is doing, on one line of stderr, once it has taken a second: only on a
    terminal, refreshed by a background thread (a call such as SymPy's differentiation of a
    large expression runs for seconds between two reports), and erased when the work ends or
    is interrupted.  Call it with (stage, done, total) as the work goes."""

    DELAY = 1.0  # seconds before the line appears
    EVERY = 0.2  # seconds between refreshes

    def __init__(self, command: str, stage: str = "", stream=None):
        self.command = command
        self.stream = stream or sys.stderr
        self.stage = stage
        self.done = self.total = 0
        self.shown = False
        self._stop = threading.Event()
        self._thread = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def __enter__(self):
        if self.stream.isatty():
            self._start = time.monotonic()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
            _state["progress"] = self
        return self

    def _run(self) -> None:
        if self._stop.wait(self.DELAY):
            return
        while not self._stop.is_set():
            count = f" {self.done}/{self.total}" if self.total else ""
            elapsed = time.monotonic() - self._start
            text = f"tracenn {self.command}: {self.stage}{count} · {elapsed:.0f} s"
            with _terminal:
                self.stream.write(f"\r\033[K{text}")
                self.stream.flush()
                self.shown = True
            self._stop.wait(self.EVERY)

    def erase(self) -> None:
        """Take the line away (the caller holds the terminal's lock)."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            _state["progress"] = None
            with _terminal:
                self.erase()
