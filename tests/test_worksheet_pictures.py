"""The worksheet's picture and the key's (exercises/picture.py): a box on each neuron for every
net, out and δ the worksheet asks, numbered as its questions are; in the key's picture each box
holds the key's answer, which is also the answer computed by hand (test_exercises.by_hand);
the hand-out's boxes are empty; boxes and labels do not overlap in Chromium."""

import re
import tomllib
from itertools import combinations

import pytest

from test_exercises import by_hand, key_answers
from test_html import browser  # noqa: F401  (the Chromium fixture)
from test_maps import boxes_overlap

BOX = re.compile(r'<rect class="answer-box" data-q="([^"]+)" x="([\d.]+)" y="([\d.]+)" '
                 r'width="([\d.]+)" height="([\d.]+)"')
ANSWER = re.compile(r'<text class="answer" data-q="([^"]+)"[^>]*>([^<]+)</text>')


@pytest.fixture(scope="module")
def ex(tmp_path_factory):
    from click.testing import CliRunner

    from tracenn.cli import cli

    folder = tmp_path_factory.mktemp("pictures") / "ex"
    result = CliRunner().invoke(cli, ["exercise", "mazur", "--students", "3", "--seed", "7",
                                      "-o", str(folder)], prog_name="tracenn")
    assert result.exit_code == 0, result.stderr
    return folder


def asked_boxes(md: str) -> dict[str, int]:
    """The numbered questions of the worksheet that ask a net, out or δ."""
    found = re.findall(r"^(\d+)\. .*?`((?:net|out|delta)_[a-z]\d)`", md, re.M)
    return {name: int(n) for n, name in found}


def test_the_key_picture_holds_the_key_and_the_hand_computation(ex):
    for sid in ("student-01", "student-02", "student-03"):
        svg = (ex / "key" / f"{sid}.svg").read_text()
        drawn = dict(ANSWER.findall(svg))
        key = key_answers(ex, sid)
        hand = by_hand(ex / "key" / f"{sid}.toml")
        assert sorted(drawn) == sorted(n for n in key if re.match(r"(net|out|delta)_", n))
        assert len(drawn) == 12  # net, out, δ of h1, h2, o1, o2
        for name, value in drawn.items():
            assert value == key[name] and float(value) == round(hand[name], 4), (sid, name)
        assert f"![The worksheet's picture with the answers in its boxes]({sid}.svg)" in \
            (ex / "key" / f"{sid}.md").read_text()


def test_the_hand_out_has_an_empty_numbered_box_per_question(ex):
    md = (ex / "student-01" / "worksheet.md").read_text()
    svg = (ex / "student-01" / "network.svg").read_text()
    numbers = asked_boxes(md)
    assert len(numbers) == 12
    assert sorted(q for q, *_ in BOX.findall(svg)) == sorted(numbers)
    assert not ANSWER.findall(svg)
    labels = dict(re.findall(r'<text data-key="(n:\d:\d:[125])"[^>]*>([^<]+)</text>', svg))
    assert sorted(int(re.match(r"\((\d+)\)", v).group(1)) for v in labels.values()) == \
        sorted(numbers.values())
    # the inputs' values are on the picture
    assert '>0.' in re.search(r'data-key="in:0:1"[^>]*>([^<]+)<', svg).group(0)


def test_in_chromium_boxes_and_texts_do_not_overlap(browser, ex):  # noqa: F811
    for path in (ex / "student-01" / "network.svg", ex / "key" / "student-01.svg"):
        browser.get(path.resolve().as_uri())
        boxes = browser.execute_script(
            "return Array.from(document.querySelectorAll('text, rect.answer-box')).map(t => {"
            "const b = t.getBBox(); return [t.tagName + ':' + (t.dataset.key || t.dataset.q),"
            " b.x, b.y, b.x + b.width, b.y + b.height, t.getAttribute('class') || '']})")
        assert len(boxes) > 30
        clashes = []
        for a, b in combinations(boxes, 2):
            if not boxes_overlap(a[1:5], b[1:5]):
                continue
            # an answer is written inside its own box
            pair = {a[5], b[5]}
            if pair == {"answer", "answer-box"} and a[0].split(":", 1)[1] == b[0].split(":", 1)[1]:
                continue
            clashes.append((a[0], b[0]))
        assert not clashes, clashes


# --------------------------------------------------------------------------------------------
# The LaTeX hand-out's picture and the key's, read back from the TikZ they are written in
# --------------------------------------------------------------------------------------------

NODE = re.compile(r"\\node\[anchor=([a-z ]+)[^\]]*\] at \(([-\d.]+),([-\d.]+)\) \{(.*)\};$", re.M)
SEGMENT = re.compile(r"\\draw\[draw=tn\w+, line width=([\d.]+)pt(?:, dashed)?\] (.*);$", re.M)
RECT = re.compile(r"\\draw\[fill=(\w+), draw=tn\w+, rounded corners=([\d.]+)pt(?:, dashed)?\] "
                  r"\(([-\d.]+),([-\d.]+)\) rectangle \(([-\d.]+),([-\d.]+)\);$", re.M)
POINT = re.compile(r"\(([-\d.]+),([-\d.]+)\)")
SCALE = re.compile(r"\\begin\{tikzpicture\}\[x=([\d.]+)pt.*fontsize\{([\d.]+)\}")


def plain(latex: str) -> str:
    """A node's text without its LaTeX: \\textbf{i1} -> i1, \\textcolor{tn…}{inputs} -> inputs."""
    return re.sub(r"\\\w+(\{tn\w+\})?|[{}]", "", latex)


def tikz(tex: str) -> dict:
    """The picture's texts (their boxes in picture units, at 0.6 em a character: wider than
    Latin Modern's typewriter letters, 0.525 em), its lines, cards and answer boxes."""
    x_pt, font_pt = map(float, SCALE.search(tex).groups())
    size = font_pt / x_pt  # the font's size in picture units
    texts = []
    for anchor, x, y, body in NODE.findall(tex):
        text, x, y = plain(body), float(x), float(y)
        w = 0.6 * size * len(text)
        x0 = {"base": x - w / 2, "base west": x, "base east": x - w}[anchor]
        texts.append((text, (x0, y - 0.75 * size, x0 + w, y + 0.25 * size)))
    lines = [(float(width) / x_pt, [tuple(map(float, p)) for p in POINT.findall(path)])
             for width, path in SEGMENT.findall(tex)]
    rects = [(fill, float(r), tuple(map(float, c))) for fill, r, *c in RECT.findall(tex)]
    return {"texts": texts, "lines": lines,
            "boxes": [c for fill, r, c in rects if fill == "white" and r == 1.0],
            "cards": [c for fill, r, c in rects if r > 1.0]}


def crosses(box, points, half_width) -> bool:
    """Whether a polyline of the given half width passes through a box (sampled every 0.5
    units along each segment)."""
    x0, y0, x1, y1 = box
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        n = max(2, int(((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5 / 0.5))
        for i in range(n + 1):
            x, y = ax + (bx - ax) * i / n, ay + (by - ay) * i / n
            if x0 - half_width < x < x1 + half_width and y0 - half_width < y < y1 + half_width:
                return True
    return False


def on_card(point, card) -> bool:
    x, y = point
    return card[0] - 1 <= x <= card[2] + 1 and card[1] - 1 <= y <= card[3] + 1


def test_the_latex_hand_out_has_the_svg_boxes_the_inputs_and_no_answer(ex):
    md = (ex / "student-01" / "worksheet.md").read_text()
    tex = (ex / "student-01" / "worksheet.tex").read_text()
    pic = tikz(tex)
    numbers = asked_boxes(md)
    labels = [t for t, _ in pic["texts"] if re.fullmatch(r"\(\d+\) (net|out|δ)", t)]
    assert sorted(int(re.match(r"\((\d+)\)", t).group(1)) for t in labels) == \
        sorted(numbers.values())
    assert len(pic["boxes"]) == len(numbers) == 12
    # each label names its own quantity: (1) net is the question net_h1 asks, and so on
    by_number = {n: name for name, n in numbers.items()}
    for t in labels:
        n, kind = re.match(r"\((\d+)\) (\S+)", t).groups()
        assert by_number[int(n)].startswith({"δ": "delta"}.get(kind, kind) + "_")
    # the inputs' values, each under its input's name on its card
    spec = tomllib.loads((ex / "key" / "student-01.toml").read_text())
    for name, x in zip(("i1", "i2"), spec["data"]["inputs"][0]):
        card = next(c for c in pic["cards"] for t, b in pic["texts"]
                    if t == name and on_card(b[:2], c))
        assert any(t == f"{x:.2f}" and on_card(b[:2], card) for t, b in pic["texts"])
    # no answer anywhere in the hand-out, neither in the picture nor elsewhere
    key = key_answers(ex, "student-01")
    assert len(key) == 36
    leaked = [(name, v) for name, v in key.items() if v.lstrip("-") in tex]
    assert not leaked, leaked


def test_the_latex_key_holds_the_key_in_its_boxes(ex):
    tex = (ex / "key" / "student-01.tex").read_text()
    pic = tikz(tex)
    key = key_answers(ex, "student-01")
    hand = by_hand(ex / "key" / "student-01.toml")
    written = {t: b for t, b in pic["texts"] if re.fullmatch(r"-?\d+\.\d{4}", t)}
    boxed = {n: v for n, v in key.items() if re.match(r"(net|out|delta)_", n)}
    assert sorted(written) == sorted(boxed.values())
    for name, value in boxed.items():
        assert float(value) == round(hand[name], 4), name
        # inside a box, and the box's label is the question's number
        box = next(b for b in pic["boxes"] if on_card(written[value][:2], b))
        label = max(((b[2], t) for t, b in pic["texts"] if re.match(r"\(\d+\)", t)
                     and abs(b[1] - box[1] - 1) < 2 and b[2] <= box[0] + 1))[1]  # just left
        number = int(re.match(r"\((\d+)\)", label).group(1))
        row = rf"{number} & \texttt{{{name.replace('_', chr(92) + '_')}}} & {value} \\"
        assert row in tex.splitlines(), (name, row)


@pytest.mark.parametrize("where", ["student-01/worksheet.tex", "key/student-01.tex"])
def test_in_the_latex_picture_nothing_overlaps_and_no_label_sits_on_a_foreign_edge(ex, where):
    tex = (ex / where).read_text()
    pic = tikz(tex)
    items = [(t, b) for t, b in pic["texts"]] + [("box", b) for b in pic["boxes"]]
    def answer_in_a_box(a, b):
        return {a, b} & {"box"} and re.fullmatch(r"-?\d+\.\d{4}", b if a == "box" else a)

    clashes = [(a, b) for (a, p), (b, q) in combinations(items, 2)
               if boxes_overlap(p, q) and not answer_in_a_box(a, b)]
    assert not clashes, clashes
    # each weight's label: crossed by no line but its own (the edge it is drawn on)
    hand_out = (ex / "student-01" / "worksheet.tex").read_text()
    given = dict(re.findall(r"^\\texttt\{(w\d+)\} & (\w+ → \w+) &", hand_out, re.M))
    cards = {t: next(c for c in pic["cards"] if on_card(b[:2], c)) for t, b in pic["texts"]
             if re.fullmatch(r"[ihob]\d", t)}
    checked = 0
    for text, box in pic["texts"]:
        m = re.fullmatch(r"(w\d+) -?\d\.\d\d", text)
        if not m:
            continue
        source, target = given[m.group(1)].split(" → ")
        for half, points in ((w / 2, p) for w, p in pic["lines"]):
            own = on_card(points[0], cards[source]) and on_card(points[-1], cards[target])
            assert own or not crosses(box, points, half), (text, points)
        checked += 1
    assert checked == 8
