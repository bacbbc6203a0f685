"""The exact text of the main outputs, against files committed under tests/golden/ (and the
walkthroughs).  To change them deliberately: python3 tests/regenerate.py, then read the diff."""

from pathlib import Path

import pytest

from regenerate import FOLDERS, OUTPUTS, ROOT, produce, produce_folder


@pytest.mark.parametrize("rel", sorted(OUTPUTS))
def test_output_equals_committed_file(rel):
    expected = (ROOT / rel).read_text(encoding="utf-8")
    assert produce(OUTPUTS[rel], Path(rel).name) == expected, f"differs from {rel}"


@pytest.mark.parametrize("rel", sorted(FOLDERS))
def test_folder_equals_committed_files(rel):
    folder = ROOT / rel
    expected = {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
                for p in sorted(folder.rglob("*")) if p.is_file()}
    produced = produce_folder(FOLDERS[rel])
    assert sorted(produced) == sorted(expected), f"the files of {rel} differ"
    for name, text in produced.items():
        assert text == expected[name], f"differs from {rel}/{name}"
