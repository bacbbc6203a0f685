"""Small line charts as SVG, written with the standard library: the step player's loss curve
and the MNIST report's statistics (one chart per statistic, one line per layer).

A chart maps its data to pixels once (`Chart.point`), so a page can place a marker on a curve
without doing arithmetic of its own.  Values that are None or not finite are left out; a
logarithmic axis leaves out values ≤ 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from .svg import FONT_FAMILY

PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#718096", "#b7791f",
           "#319795")


@dataclass
class Series:
    name: str
    points: list[tuple[float, float | None]]
    colour: str = ""
    dots: bool = False  # draw points, not a line (a noisy per-step loss)


def _finite(y, log: bool) -> bool:
    return y is not None and math.isfinite(y) and (y > 0 or not log)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values spanning lo..hi (1, 2 or 5 times a power of ten apart)."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while not ticks or ticks[-1] < hi - step * 1e-9:  # the last tick at or above hi
        ticks.append(round(t, 12))
        t += step
    return ticks


def tick_text(t: float) -> str:
    return f"{t:g}" if abs(t) >= 1e-3 or t == 0 else f"{t:.0e}"


@dataclass
class Chart:
    title: str
    series: list[Series]
    width: int = 420
    height: int = 220
    log: bool = False
    x_label: str = ""
    left: int = 56
    right: int = 12
    top: int = 26
    bottom: int = 34
    x_range: tuple[float, float] = field(init=False)
    y_range: tuple[float, float] = field(init=False)
    y_ticks: list = field(init=False)  # the axis ends at its first and last tick
    x_ticks: list = field(init=False)  # whole numbers (steps, epochs) within the data's span

    def __post_init__(self):
        xs = [x for s in self.series for x, y in s.points if _finite(y, self.log)]
        ys = [self._y(y) for s in self.series for x, y in s.points if _finite(y, self.log)]
        self.x_range = (min(xs, default=0.0), max(xs, default=1.0))
        x0, x1 = self.x_range
        self.x_ticks = [t for t in nice_ticks(x0, x1, 6) if x0 <= t <= x1 and t == int(t)]
        if x1 <= x0:  # one step: its dot in the middle, its number the only tick
            self.x_range, self.x_ticks = (x0 - 1.0, x0 + 1.0), [x0]
        lo, hi = min(ys, default=0.0), max(ys, default=1.0)
        if self.log:
            lo, hi = math.floor(lo), math.ceil(hi)
        if hi <= lo:  # one value: an axis a tenth of it either side (whole decades on a log axis)
            pad = 1.0 if self.log else abs(lo) * 0.1 or 1.0
            lo, hi = (lo, lo + pad) if self.log else (lo - pad, hi + pad)
        self.y_ticks = list(range(int(lo), int(hi) + 1)) if self.log else nice_ticks(lo, hi)
        self.y_range = (lo, hi) if self.log else (self.y_ticks[0], self.y_ticks[-1])

    def _y(self, y: float) -> float:
        return math.log10(y) if self.log else y

    def point(self, x: float, y: float) -> tuple[float, float]:
        """Pixel coordinates of a data point."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        px = self.left + (x - x0) / (x1 - x0) * (self.width - self.left - self.right)
        py = self.top + (y1 - self._y(y)) / (y1 - y0) * (self.height - self.top - self.bottom)
        return round(px, 1), round(py, 1)

    def svg(self, extra: str = "") -> str:
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
               f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
               f'font-family="{FONT_FAMILY}" font-size="10" class="chart">',
               f'<text x="{self.left}" y="14" font-size="11" font-weight="bold">'
               f'{escape(self.title)}</text>']
        out += self._axes()
        for i, s in enumerate(self.series):
            colour = s.colour or PALETTE[i % len(PALETTE)]
            pts = [self.point(x, y) for x, y in s.points if _finite(y, self.log)]
            if s.dots:
                out += [f'<circle cx="{x}" cy="{y}" r="1.3" fill="{colour}" fill-opacity="0.5"/>'
                        for x, y in pts]
            elif pts:
                path = " ".join(f"{x},{y}" for x, y in pts)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                           'stroke-width="1.6"/>')
        out += self._legend()
        out.append(extra)
        out.append("</svg>")
        return "\n".join(out)

    def _axes(self) -> list[str]:
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        right, bottom = self.width - self.right, self.height - self.bottom
        out = [f'<rect x="{self.left}" y="{self.top}" width="{right - self.left}" '
               f'height="{bottom - self.top}" fill="#ffffff" stroke="#cbd5e0"/>']
        for t in self.y_ticks:
            py = self.point(x0, 10.0 ** t if self.log else t)[1]
            label = f"1e{t}" if self.log else tick_text(t)
            out.append(f'<line x1="{self.left}" y1="{py}" x2="{right}" y2="{py}" stroke="#edf2f7"/>')
            out.append(f'<text x="{self.left - 4}" y="{py + 3}" text-anchor="end" '
                       f'fill="#4a5568">{label}</text>')
        for t in self.x_ticks:
            px = self.point(t, 10.0 ** y0 if self.log else y0)[0]
            out.append(f'<text x="{px}" y="{bottom + 13}" text-anchor="middle" '
                       f'fill="#4a5568">{tick_text(t)}</text>')
        if self.x_label:
            out.append(f'<text x="{right}" y="{self.height - 4}" text-anchor="end" '
                       f'fill="#4a5568">{escape(self.x_label)}</text>')
        return out

    def _legend(self) -> list[str]:
        out, x = [], self.left + 8
        for i, s in enumerate(self.series):
            if len(self.series) == 1:
                break
            colour = s.colour or PALETTE[i % len(PALETTE)]
            out.append(f'<line x1="{x}" y1="{self.top + 10}" x2="{x + 14}" y2="{self.top + 10}" '
                       f'stroke="{colour}" stroke-width="3"/>')
            out.append(f'<text x="{x + 18}" y="{self.top + 13}">{escape(s.name)}</text>')
            x += 18 + 6.2 * len(s.name) + 14
        return out
