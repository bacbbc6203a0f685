"""A self-contained page that plays a circuit gate by gate (`tracenn graph … --html FILE`):
the inputs, then each gate forward in topological order (its value appears on the wires it
feeds), then the output's gradient 1 and each gate backward in reverse order (the gradient it
sends appears under each of its input wires), the current gate lit and its arithmetic written
out.  The picture is circuit_svg's, drawn once on the shared layout with every label; the
script only shows, hides and lights what the steps (plain data, written here from the trace)
name.  The page requests nothing.
"""

from __future__ import annotations

import json
import re
from html import escape

from ..circuits.layout import circuit_layout
from ..circuits.text import verdict
from ..circuits.trace import CircuitTrace
from ..notation import PICTURE_PRECISION, num
from .circuit_svg import circuit_svg

NAME = re.compile(r"[A-Za-z_][\w′″]*")


def _substituted(trace: CircuitTrace, gate, precision: int) -> str:
    """The gate's operation with its inputs' values in place of their labels."""
    value = {trace.node(a).label: trace.node(a).value for a in gate.args}

    def put(m):
        if m.group(0) not in value:
            return m.group(0)
        x = num(value[m.group(0)], precision)
        return f"({x})" if x.startswith("-") else x
    return NAME.sub(put, gate.text)


def forward_steps(trace: CircuitTrace, precision: int) -> list[dict]:
    fed = {}  # node id -> keys of the wires leaving it
    for g in trace.gates:
        for i, a in enumerate(g.args):
            fed.setdefault(a, []).append(f"{g.id}.{i}")
    fed.setdefault(trace.output, []).append("out")
    sources = [*trace.inputs, *trace.constants]
    steps = [{"phase": "forward", "title": "The inputs",
              "lines": [f"{n.label} = {num(n.value, precision)}" for n in trace.inputs],
              "show": [f"v:{w}" for n in sources for w in fed.get(n.id, [])], "lit": []}]
    for g in trace.gates:
        steps.append({"phase": "forward", "title": f"Forward: {g.label} = {g.text}",
                      "lines": [f"{g.label} = {g.text} = {_substituted(trace, g, precision)} "
                                f"= {num(g.value, precision)}"],
                      "show": [f"v:{w}" for w in fed.get(g.id, [])],
                      "lit": [g.id, *fed.get(g.id, [])]})
    return steps


def backward_steps(trace: CircuitTrace, precision: int) -> list[dict]:
    out = trace.node(trace.output)
    steps = [{"phase": "backward", "title": f"Backward: start at the output {out.label}",
              "lines": [f"∂{out.label}/∂{out.label} = {num(out.grad, precision)}"],
              "show": ["d:out", "l:grad"], "lit": ["out"]}]  # the key's gradient line too
    for b in trace.backward:
        g = trace.node(b.gate)
        up = num(b.upstream, precision)
        lines = [f"upstream ∂{out.label}/∂{g.label} = {up}"
                 + (" = " + " + ".join(num(a, precision) for _, a in b.parts)
                    if len(b.parts) > 1 else "")]
        for s in b.locals:
            arg = trace.node(s.arg).label
            lines.append(f"∂{g.label}/∂{arg} = {s.formula} = {num(s.local, precision)};  "
                         f"downstream = {num(s.local, precision)} × {up} = "
                         f"{num(s.downstream, precision)}"
                         + (f";  {arg} accumulates: total {num(s.total, precision)}"
                            if s.accumulates else ""))
        if b.note:
            lines.append(b.note)
        keys = [f"{g.id}.{i}" for i in range(len(b.locals))]
        steps.append({"phase": "backward", "title": f"Backward: {g.label} = {g.text}",
                      "lines": lines, "show": [f"d:{k}" for k in keys], "lit": [g.id, *keys]})
    steps.append({"phase": "done", "title": "The gradient of every input",
                  "lines": [f"∂{out.label}/∂{n.label} = {num(n.grad, precision)}"
                            for n in trace.inputs]
                  + ([verdict(trace)] if trace.check is not None else []),
                  "show": [], "lit": []})
    return steps


def circuit_page(trace: CircuitTrace, precision: int = PICTURE_PRECISION) -> str:
    layout = circuit_layout(trace, precision)
    svg = circuit_svg(trace, "backward", precision, layout=layout, every_label=True)
    steps = forward_steps(trace, precision) + backward_steps(trace, precision)
    data = json.dumps(steps, ensure_ascii=False).replace("</", "<\\/")
    title = escape(f"tracenn graph: {trace.program.strip()}")
    return PAGE.format(title=title, svg=svg, steps=data, program=escape(trace.program.strip()),
                       total=len(steps), natural=round(layout.width),
                       wide=round(1.8 * layout.width))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem; color: #1a202c; }}
#picture {{ overflow-x: auto; }}
#picture svg {{ width: min(max(100%, {natural}px), {wide}px); height: auto; }}
#picture .hidden {{ visibility: hidden; }}
#picture .lit {{ stroke: #d69e2e; stroke-width: 3; }}
#controls {{ display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }}
#arith {{ font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: .9rem;
  background: #f7fafc; border: 1px solid #e2e8f0; padding: .5rem; white-space: pre-wrap;
  overflow-wrap: anywhere; }}
.legend-value {{ color: #1e7b34; }} .legend-grad {{ color: #c00000; }}
</style></head>
<body data-ready="0">
<h1 style="font-size:1.2rem">Backprop on a circuit</h1>
<pre id="program">{program}</pre>
<p>The value above each wire (<span class="legend-value">green</span>), the gradient below it
(<span class="legend-grad">red</span>); one gate per step, forward then backward.</p>
<div id="controls">
<button id="prev" type="button">◀ previous</button>
<button id="play" type="button">play</button>
<button id="next" type="button">next ▶</button>
<input id="slider" type="range" min="1" max="{total}" value="1" aria-label="step">
<span id="step-label"></span>
</div>
<h2 id="step-title" style="font-size:1rem"></h2>
<div id="arith"></div>
<div id="picture">
{svg}</div>
<script type="application/json" id="steps">{steps}</script>
<script>
(function () {{
  const steps = JSON.parse(document.getElementById("steps").textContent);
  const svg = document.querySelector("#picture svg");
  const numbers = Array.from(svg.querySelectorAll(
    "text[data-key^='v:'], text[data-key^='d:'], text[data-key='l:grad']"));
  let at = 0, timer = null;
  function show(i) {{
    at = Math.max(0, Math.min(steps.length - 1, i));
    const shown = new Set();
    for (let k = 0; k <= at; k++) steps[k].show.forEach(s => shown.add(s));
    numbers.forEach(t => t.classList.toggle("hidden", !shown.has(t.dataset.key)));
    const lit = new Set(steps[at].lit);
    svg.querySelectorAll("circle, polyline, rect[data-key]").forEach(
      e => e.classList.toggle("lit", lit.has(e.dataset.key)));
    const s = steps[at];
    document.getElementById("step-label").textContent =
      "step " + (at + 1) + " of " + steps.length + " (" + s.phase + ")";
    document.getElementById("step-title").textContent = s.title;
    document.getElementById("arith").textContent = s.lines.join("\\n");
    document.getElementById("slider").value = at + 1;
    history.replaceState(null, "", "#step=" + (at + 1));
  }}
  function play() {{
    if (timer) {{ clearInterval(timer); timer = null; }}
    else timer = setInterval(() => {{ if (at + 1 >= steps.length) play(); else show(at + 1); }}, 1200);
    document.getElementById("play").textContent = timer ? "pause" : "play";
  }}
  document.getElementById("prev").onclick = () => show(at - 1);
  document.getElementById("next").onclick = () => show(at + 1);
  document.getElementById("play").onclick = play;
  document.getElementById("slider").oninput = e => show(Number(e.target.value) - 1);
  document.addEventListener("keydown", e => {{
    if (e.key === "ArrowRight") show(at + 1);
    if (e.key === "ArrowLeft") show(at - 1);
  }});
  const m = /step=(\\d+)/.exec(location.hash);
  show(m ? Number(m[1]) - 1 : 0);
  document.body.dataset.ready = "1";
}})();
</script>
</body></html>
"""
