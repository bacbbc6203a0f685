"""What a new user ran into on a fresh clone (issue 25, the smaller items): each message,
help text and document says what is true of this checkout and of the spec at hand."""

import pytest

import tracenn


@pytest.mark.parametrize("function", ["verify", "walkthrough"])
def test_mistakes_given_to_a_right_numbers_function_get_a_true_message(function):
    with pytest.raises(tracenn.OptionError) as caught:
        getattr(tracenn, function)("mazur", mistakes=["sigma-prime-of-a"])
    message = str(caught.value)
    assert message.startswith(f"{function}() takes no mistakes")
    assert "unknown option" not in message and "tracenn.trace(spec, mistakes=" in message


def test_compare_given_mistakes_says_it_names_them_itself():
    with pytest.raises(tracenn.OptionError, match=r"^compare\(\) takes no mistakes"):
        tracenn.compare("mazur", {"w5": 0.35891648}, mistakes=["added-update"])


def test_an_unknown_option_of_verify_lists_only_the_options_verify_takes():
    with pytest.raises(tracenn.OptionError) as caught:
        tracenn.verify("mazur", momentun=0.9)
    message = str(caught.value)
    assert "momentun" in message and "momentum" in message and "mistakes" not in message


def test_an_unknown_option_of_trace_still_lists_mistakes():
    with pytest.raises(tracenn.OptionError, match="lr, mistakes, update_biases"):
        tracenn.trace("mazur", 1, momentun=0.9)


def test_pytorch_is_installed_from_the_checkout_where_tracenn_says_how(run):
    """tracenn is not on PyPI: 'tracenn[torch]' cannot be installed, '.[torch]' can."""
    from pathlib import Path

    from tracenn.bridges import INSTALL_TORCH

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    helped = run("spec", "--help").stdout
    for text in (readme, helped, INSTALL_TORCH):
        assert "'tracenn[torch]'" not in text
        assert "pip install '.[torch]'" in text
