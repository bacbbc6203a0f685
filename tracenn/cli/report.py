"""The MNIST report file (tracenn mnist --html): rewritten atomically as summaries come, at
most every few seconds (so it can be reloaded while training runs, and a Ctrl-C leaves what
there is), and once more at the end with the confusion matrix."""

from __future__ import annotations

import time

from ..files import write_atomically
from ..render.report import mnist_report

EVERY_SECONDS = 3.0


class ReportFile:
    def __init__(self, path: str, about: str, epochs: int):
        self.path, self.about, self.epochs = path, about, epochs
        self.summaries: list = []
        self.written = None  # when it was last written

    def add(self, summary) -> None:
        self.summaries.append(summary)
        if self.written is None or time.monotonic() - self.written >= EVERY_SECONDS:
            self.write()

    def write(self, result=None) -> None:
        """The page as it stands; with the run's result, the final page."""
        page = mnist_report(
            self.summaries, about=self.about, epochs=self.epochs,
            confusion=None if result is None else result.confusion,
            test_accuracy=None if result is None else result.test_accuracy,
            interrupted=result is None or result.interrupted, finished=result is not None)
        write_atomically(self.path, page)
        self.written = time.monotonic()
