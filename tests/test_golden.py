"""The exact text of the main outputs, against files committed under tests/golden/ (and the
walkthroughs).  To change them deliberately: python3 tests/regenerate.py, then read the diff."""

from pathlib import Path

import pytest

from regenerate import OUTPUTS, ROOT, produce


@pytest.mark.parametrize("rel", sorted(OUTPUTS))
def test_output_equals_committed_file(rel):
    expected = (ROOT / rel).read_text(encoding="utf-8")
    assert produce(OUTPUTS[rel], Path(rel).name) == expected, f"differs from {rel}"
