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

from ..errors import OutputError

_state = {"writing": False, "pending": None}


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
