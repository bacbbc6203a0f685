// Renders TeX strings with MathJax 3 (the renderer GitHub uses for $…$ and $$…$$) and with
// KaTeX, and reports every string either of them rejects.
//
// stdin: a JSON array of {"id": …, "tex": …, "display": true|false}
// stdout: a JSON array of {"id": …, "renderer": "mathjax"|"katex", "error": …}, empty when all
// render.
"use strict";

const katex = require("katex");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
require("mathjax-full/js/input/tex/base/BaseConfiguration.js");
require("mathjax-full/js/input/tex/ams/AmsConfiguration.js");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  packages: ["base", "ams"],
  // MathJax normally draws an error box in place of the formula; throw instead, so it is seen.
  formatError: (jax, err) => { throw err; },
});
const doc = mathjax.document("", { InputJax: tex, OutputJax: new SVG({ fontCache: "none" }) });

function mathjaxError(source, display) {
  try {
    doc.convert(source, { display });
    return null;
  } catch (err) {
    return String(err.message || err);
  }
}

function katexError(source, display) {
  try {
    katex.renderToString(source, { displayMode: display, throwOnError: true, strict: "ignore" });
    return null;
  } catch (err) {
    return String(err.message || err);
  }
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const failures = [];
  for (const item of JSON.parse(input)) {
    const display = item.display !== false;
    const mj = mathjaxError(item.tex, display);
    if (mj) failures.push({ id: item.id, renderer: "mathjax", error: mj });
    const kx = katexError(item.tex, display);
    if (kx) failures.push({ id: item.id, renderer: "katex", error: kx });
  }
  process.stdout.write(JSON.stringify(failures));
});
