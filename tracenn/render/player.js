// tracenn's step player.  Every text, position and colour it shows was computed by tracenn
// and embedded in #tracenn-view; this script only switches between them.  The trace itself
// (format 1, one JSON object per line) is in #tracenn-trace, for anyone who wants the numbers.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tracenn-view").textContent);
  var PHASES = ["forward", "error", "backward", "update"];
  var VIEW_OF = { forward: "forward", error: "forward", backward: "chain", update: "update" };
  var TABLES_OF = {
    forward: function (k) { return k === "forward"; },
    error: function (k) { return k === "error"; },
    backward: function (k) { return k.indexOf("backward:") === 0; },
    update: function (k) {
      return k === "before-after" || k.indexOf("backward:") === 0 || k.indexOf("update:") === 0;
    }
  };
  var $ = function (id) { return document.getElementById(id); };
  var figures = {}, slots = {};
  Array.prototype.forEach.call(document.querySelectorAll("#diagram svg.tracenn-figure"), function (svg) {
    var v = svg.getAttribute("data-view"), texts = {}, edges = {};
    figures[v] = svg;
    Array.prototype.forEach.call(svg.querySelectorAll("text[data-key]"), function (t) {
      texts[t.getAttribute("data-key")] = t;
    });
    Array.prototype.forEach.call(svg.querySelectorAll("polyline.weight"), function (p) {
      edges[p.getAttribute("data-key")] = p;
    });
    slots[v] = { texts: texts, edges: edges };
  });
  var state = { index: 0, phase: 0, sample: 0, timer: null };  // sample: its place in the batch
  var steps = data.steps, last = steps.length - 1;

  function setText(el, text) {  // a chain label keeps its two colours: value ▸, gradient ◂
    var spans = el.getElementsByTagName("tspan"), cut = text.indexOf(" \u25C2 ");
    if (spans.length === 2 && cut >= 0) {
      spans[0].textContent = text.slice(0, cut);
      spans[1].textContent = text.slice(cut);
    } else {
      el.textContent = text;
    }
  }

  function drawFigure(v) {
    var texts = data.views[v], row = texts.texts[data.offsets[state.index] + state.sample];
    texts.keys.forEach(function (key, i) {
      var el = slots[v].texts[key];
      if (el) { setText(el, row[i]); }
    });
    var styles = data.edges[v][state.index];
    data.edge_keys.forEach(function (key, i) {
      var el = slots[v].edges[key];
      el.setAttribute("stroke", data.colours[styles[2 * i]]);
      el.setAttribute("stroke-width", styles[2 * i + 1]);
    });
  }

  function drawTables(phase) {
    var box = $("tables-side"), hot = TABLES_OF[phase], tabs = data.tables;
    box.textContent = "";
    $("tables-below").textContent = "";
    var all = tabs.steps[state.index];  // the phase's own tables first, beside the picture
    all.filter(function (t) { return hot(t[0]); }).concat(
      all.filter(function (t) { return !hot(t[0]); })).forEach(function (t) {
      var fig = document.createElement("figure"), cap = document.createElement("figcaption");
      var table = document.createElement("table"), head = table.createTHead().insertRow();
      var hide = (phase === "backward" ? tabs.backward_hide[t[0]] : tabs.update_hide[t[0]]) || [];
      fig.setAttribute("data-key", t[0]);
      if (hot(t[0])) { fig.className = "hot"; }
      cap.textContent = t[1];
      tabs.headers[t[0]].forEach(function (h, i) {
        var th = document.createElement("th");
        th.textContent = h;
        if (hide.indexOf(i) >= 0) { th.className = "gone"; }
        head.appendChild(th);
      });
      var body = table.createTBody(), at = tabs.headers[t[0]][0] === "sample" ? 1 : 0, name = "";
      t[2].forEach(function (cells) {
        name = cells[at] ? cells[at].split(" ")[0] : name;  // a batch's later samples: blank
        var shown = cells.filter(function (c, i) { return i > 0 && c && hide.indexOf(i) < 0; });
        if (hide.length && !shown.length) { return; }  // a row of only the columns left out
        var tr = body.insertRow();
        tr.setAttribute("data-name", name);
        var formula = fill(tabs.formulas[t[0]], cells);
        if (formula) { tr.setAttribute("data-formula", formula); }
        cells.forEach(function (c, i) {
          var td = tr.insertCell();
          td.textContent = c;
          td.setAttribute("data-h", tabs.headers[t[0]][i]);  // a stacked row names its cells
          var cls = (t[3][i] === "right" ? "num" : "") + (hide.indexOf(i) >= 0 ? " gone" : "");
          if (cls) { td.className = cls; }  // alignment as tables.column_align says
        });
      });
      fig.appendChild(cap);
      fig.appendChild(table);
      box.appendChild(fig);
    });
    arrange();
  }

  // on a phone, a table wider than its box is written row by row, each cell after its
  // column's name, so nothing needs scrolling sideways (a table that fits stays a table)
  function stack() {
    var phone = window.matchMedia("(max-width: 700px)").matches;
    Array.prototype.forEach.call(document.querySelectorAll("#tables figure"), function (fig) {
      fig.classList.remove("stacked");
      var table = fig.querySelector("table");
      if (phone && table.getBoundingClientRect().width > fig.clientWidth) { fig.classList.add("stacked"); }
    });
  }

  // beside the picture go the tables that fit there whole (every column in sight); the others
  // go under it, across the page.  Below 1,100 px every table is under the picture.
  function arrange() {
    stack();
    if (window.matchMedia("(max-width: 1100px)").matches) { return; }
    var main = document.querySelector("main"), gap = parseFloat(getComputedStyle(main).columnGap) || 0;
    var room = main.clientWidth - $("diagram").getBoundingClientRect().width - gap;
    Array.prototype.slice.call($("tables-side").children).forEach(function (fig) {
      fig.style.width = "min-content";
      var need = fig.getBoundingClientRect().width;
      fig.style.width = "";
      if (need > room) { $("tables-below").appendChild(fig); }
    });
  }

  // a row's formula: the template of its table with the row's own cells (and η) put in; none
  // where a cell it names is blank (an input, ∂E/∂x)
  function fill(template, cells) {
    var blank = false, eta = data.tables.eta[state.index];
    var text = (template || "").replace(/\{(\d+|eta)\}/g, function (m, i) {
      var v = i === "eta" ? eta : cells[Number(i)];
      if (!v) { blank = true; }
      return v;
    });
    return blank ? "" : text;
  }

  // the pointer on a number of the picture, or on a row of the tables, lights both and shows
  // the row's formula
  function nameOf(key) {
    var m = /^(w:\d+:\d+:\d+|n:\d+:\d+)/.exec(key || "");
    return m ? data.names[m[1]] : undefined;
  }

  function light(name, text) {
    Array.prototype.forEach.call(document.querySelectorAll(".lit"), function (e) {
      e.classList.remove("lit");
    });
    var tip = $("tip"), formula = "";
    if (name) {
      Array.prototype.forEach.call(document.querySelectorAll("#tables tr[data-name]"), function (tr) {
        if (tr.getAttribute("data-name") === name) {
          tr.classList.add("lit");
          formula = formula || tr.getAttribute("data-formula") || "";
        }
      });
      Array.prototype.forEach.call(document.querySelectorAll("#diagram text[data-key]"), function (t) {
        if (nameOf(t.getAttribute("data-key")) === name) { t.classList.add("lit"); }
      });
    }
    tip.textContent = name ? name + ": " + (formula || text || "") : "";
    tip.hidden = !name;
  }

  document.addEventListener("mouseover", function (e) {
    var t = e.target.closest ? e.target.closest("#diagram text[data-key], #tables tr[data-name]") : null;
    if (!t) { light(); return; }
    var name = t.tagName === "TR" ? t.getAttribute("data-name") : nameOf(t.getAttribute("data-key"));
    light(name, t.textContent);
  });

  // on a phone the picture keeps its size (its text at least 11 px) in a box to pan and zoom
  var zoom = 1;
  function setZoom(z) {
    zoom = Math.max(0.25, Math.min(4, z));
    Object.keys(figures).forEach(function (v) {
      var svg = figures[v], w = svg.viewBox.baseVal.width, h = svg.viewBox.baseVal.height;
      svg.style.width = svg.style.maxWidth = (w * zoom) + "px";
      svg.style.height = (h * zoom) + "px";
    });
    $("zoom-level").textContent = Math.round(zoom * 100) + "%";
  }

  function smallestText(svg) {
    var least = 99;
    Array.prototype.forEach.call(svg.querySelectorAll("text"), function (t) {
      if (t.textContent) { least = Math.min(least, parseFloat(getComputedStyle(t).fontSize)); }
    });
    return least;
  }

  if (window.matchMedia("(max-width: 700px)").matches) {
    var least = 99;
    Object.keys(figures).forEach(function (v) { least = Math.min(least, smallestText(figures[v])); });
    setZoom(Math.max(1, 11 / least));
  }
  function rearrange() { drawTables(PHASES[state.phase]); }  // the picture's width changed
  $("zoom-in").addEventListener("click", function () { setZoom(zoom * 1.25); rearrange(); });
  $("zoom-out").addEventListener("click", function () { setZoom(zoom / 1.25); rearrange(); });
  window.addEventListener("resize", rearrange);

  var plane = data.plane, canvas = $("plane-canvas");
  function drawPlane() {
    if (!plane) { return; }
    var n = plane.size, bytes = atob(plane.levels[state.index]);
    var ctx = canvas.getContext("2d"), img = ctx.createImageData(n, n);
    for (var i = 0; i < n * n; i++) {
      var rgb = plane.outputs === 1 ? plane.palette[0][bytes.charCodeAt(i)]
        : plane.palette[bytes.charCodeAt(2 * i)][bytes.charCodeAt(2 * i + 1)];
      img.data[4 * i] = rgb[0]; img.data[4 * i + 1] = rgb[1];
      img.data[4 * i + 2] = rgb[2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function setupPlane() {
    if (!plane) { return; }
    $("plane").hidden = false;
    canvas.width = plane.size; canvas.height = plane.size;
    var svg = $("plane-points"), ns = "http://www.w3.org/2000/svg";
    plane.points.forEach(function (p) {
      var c = document.createElementNS(ns, "ellipse");
      c.setAttribute("cx", p[0]); c.setAttribute("cy", p[1]);
      c.setAttribute("rx", 0.03); c.setAttribute("ry", 0.03);
      c.setAttribute("fill", plane.point_colours[p[2]]);
      c.setAttribute("stroke", "#ffffff"); c.setAttribute("stroke-width", 0.012);
      svg.appendChild(c);
    });
    $("plane-axes").textContent = "x1 from " + plane.x[0] + " to " + plane.x[1] +
      " (left to right), x2 from " + plane.y[0] + " to " + plane.y[1] + " (bottom to top); " +
      (plane.outputs === 1 ? "orange 0 … white 0.5 … blue 1; the dots are the training samples, " +
        "coloured by target" : "colour: the class with the highest output, paler where it is less sure");
  }

  function show() {
    var phase = PHASES[state.phase], v = VIEW_OF[phase];
    Object.keys(figures).forEach(function (name) {
      figures[name].style.display = name === v ? "" : "none";
    });
    figures[v].setAttribute("class", "tracenn-figure hot-" + phase);
    drawFigure(v);
    drawTables(phase);
    drawPlane();
    var mark = $("curve-mark"), m = data.marks[data.offsets[state.index] + state.sample];
    mark.setAttribute("cx", m[0]); mark.setAttribute("cy", m[1]);
    $("slider").value = state.index;
    $("step-label").textContent = "step " + steps[state.index] + " of " + data.total + " · " + phase;
    var batch = data.samples[state.index];
    $("sample-label").textContent = "sample " + (state.sample + 1) + " of " + batch.length +
      " (row " + batch[state.sample] + ")";
    Array.prototype.forEach.call(document.querySelectorAll("#phases button"), function (b) {
      b.className = Number(b.getAttribute("data-phase")) === state.phase ? "on" : "";
    });
    var hash = "#step=" + steps[state.index] + (state.phase ? "&phase=" + phase : "") +
      (state.sample ? "&sample=" + (state.sample + 1) : "");  // a batch's sample, from 1
    if (location.hash !== hash) {
      try { history.replaceState(null, "", hash); } catch (e) { /* a page opened from a file may refuse */ }
    }
  }

  function notice(text) {
    $("notice").hidden = !text;
    $("notice").textContent = text || "";
  }

  function go(index, phase) {
    state.index = Math.max(0, Math.min(last, index));
    state.sample = Math.min(state.sample, data.samples[state.index].length - 1);
    state.phase = phase === undefined ? state.phase : phase;
    show();
  }

  function ordinal(n) {  // 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st (notation.ordinal)
    var teen = n % 100 >= 11 && n % 100 <= 13, last = n % 10;
    return n + (teen ? "th" : last === 1 ? "st" : last === 2 ? "nd" : last === 3 ? "rd" : "th");
  }

  function fromHash() {
    var m = /step=(\d+)/.exec(location.hash), p = /phase=(\w+)/.exec(location.hash);
    var phase = p ? Math.max(0, PHASES.indexOf(p[1])) : 0, k = /sample=(\d+)/.exec(location.hash);
    state.sample = k ? Math.max(0, Number(k[1]) - 1) : 0;  // go() keeps it within the batch
    if (!m) { go(0, phase); return; }
    var wanted = Number(m[1]), i = 0;
    while (i < last && steps[i] < wanted) { i++; }
    if (i > 0 && wanted - steps[i - 1] < steps[i] - wanted) { i--; }  // the nearest kept step
    if (wanted < 1 || wanted > data.total) {
      notice("There is no step " + wanted + ": this trace has steps 1 to " + data.total + ".");
    } else if (steps[i] !== wanted) {
      notice("Step " + wanted + " is not kept in full on this page (it keeps " +
        (data.per_epoch > 1 ? "every sample of every " + ordinal(data.every) + " epoch" :
         "every " + ordinal(data.every) + " step") + ", the first and the last); showing step " + steps[i] +
        ". Make the page with --every 1 to keep every step.");
    } else {
      notice("");
    }
    go(i, phase);
  }

  function advance() {
    var speed = $("speed").value;
    if (speed === "steps" || state.phase === 3) {
      if (state.index === last) { pause(); return; }
      go(state.index + 1, speed === "steps" ? state.phase : 0);
    } else {
      go(state.index, state.phase + 1);
    }
  }

  function play() {
    var ms = { phases: 1000, fast: 300, steps: 150 }[$("speed").value];
    if (state.index === last && state.phase === 3) { go(0, 0); }
    pause();
    state.timer = setInterval(advance, ms);
    $("play").textContent = "⏸ pause";
  }

  function pause() {
    if (state.timer) { clearInterval(state.timer); }
    state.timer = null;
    $("play").textContent = "▶ play";
  }

  function toggle() { if (state.timer) { pause(); } else { play(); } }

  $("slider").max = last;
  var longest = ("step " + data.total + " of " + data.total + " · backward").length;
  $("step-label").style.minWidth = longest + "ch";  // the controls do not reflow from step to step
  $("zoom-level").textContent = "100%";
  // a step of several samples (a mini-batch, the full batch): its picture sample by sample
  $("sample-box").hidden = !data.samples.some(function (b) { return b.length > 1; });
  function toSample(d) {
    var n = data.samples[state.index].length;
    state.sample = (state.sample + d + n) % n;
    show();
  }
  $("sample-prev").addEventListener("click", function () { toSample(-1); });
  $("sample-next").addEventListener("click", function () { toSample(1); });
  $("slider").addEventListener("input", function () { notice(""); go(Number(this.value)); });
  $("prev").addEventListener("click", function () { notice(""); go(state.index - 1); });
  $("next").addEventListener("click", function () { notice(""); go(state.index + 1); });
  $("first").addEventListener("click", function () { go(0); });
  $("last").addEventListener("click", function () { go(last); });
  $("play").addEventListener("click", toggle);
  $("speed").addEventListener("change", function () { if (state.timer) { play(); } });
  Array.prototype.forEach.call(document.querySelectorAll("#phases button"), function (b) {
    b.addEventListener("click", function () { go(state.index, Number(b.getAttribute("data-phase"))); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.target && e.target.tagName === "INPUT" || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var keys = { ArrowRight: function () { go(state.index + 1); },
      ArrowLeft: function () { go(state.index - 1); }, Home: function () { go(0); },
      End: function () { go(last); }, " ": toggle };
    if (keys[e.key]) { keys[e.key](); e.preventDefault(); }
    else if ("1234".indexOf(e.key) >= 0 && e.key) { go(state.index, Number(e.key) - 1); }
  });
  window.addEventListener("hashchange", fromHash);
  setupPlane();
  fromHash();
  document.body.setAttribute("data-ready", "1");
  if (window.performance && performance.mark) { performance.mark("tracenn-ready"); }
})();
