"""The worksheet's picture and the key's (exercises/picture.py): a box on each neuron for every
net, out and δ the worksheet asks, numbered as its questions are; in the key's picture each box
holds the key's answer, which is also the answer computed by hand (test_exercises.by_hand);
the hand-out's boxes are empty; boxes and labels do not overlap in Chromium."""

import re
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
