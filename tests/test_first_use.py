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


SOFTMAX_TANH = "tests/specs/net-3-4-4-2.toml"  # tanh and relu hidden layers, a softmax output


def _mistakes_rows(document: str) -> dict[str, str]:
    section = document.split("## Common mistakes", 1)[1]
    return {line.split("|")[1].strip(" `"): line.split("|")[2].strip()
            for line in section.splitlines() if line.startswith("| `")}


def test_the_walkthroughs_mistakes_speak_of_the_spec_at_hand(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    rows = _mistakes_rows(tracenn.walkthrough(SOFTMAX_TANH))
    assert rows["sigma-prime-of-a"].endswith(": 1 − tanh²(a) in place of 1 − a²")
    assert "σ(a)" not in rows["sigma-prime-of-a"]
    assert "blog" not in rows["updated-weights"]
    # the XOR net is sigmoid throughout, and not the blog's network
    rows = _mistakes_rows(tracenn.walkthrough("xor"))
    assert rows["sigma-prime-of-a"].endswith(": σ(a)(1 − σ(a)) in place of a(1 − a)")
    assert "blog" not in rows["updated-weights"]


def test_mazurs_walkthrough_names_the_blogs_number_where_the_mistake_gives_it():
    rows = _mistakes_rows(tracenn.walkthrough("mazur"))
    assert rows["updated-weights"].endswith("(the order that gives the blog's 0.291027924)")
    wrong = tracenn.trace("mazur", 1, mistakes=["updated-weights"]).steps[0]
    assert round(wrong.loss_after, 9) == 0.291027924  # the blog's figure, in its post
    # with another η the mistake no longer gives the blog's number, and the row says none
    assert "blog" not in _mistakes_rows(tracenn.walkthrough("mazur", lr=0.4))["updated-weights"]


def test_a_negative_number_as_a_functions_argument_has_one_pair_of_parentheses(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    document = tracenn.walkthrough(SOFTMAX_TANH)
    assert r"\tanh{\left((" not in document
    assert r"\tanh{\left(-0.968796124 \right)} = -0.748174776" in document
    import math

    assert f"{math.tanh(-0.968796124):.9f}" == "-0.748174776"  # the value shown, by hand
    # in a product the parentheses stay: w · (−x)
    assert r"\cdot (-" in document


def test_undoubled_leaves_needed_parentheses():
    from tracenn.maths.quantities import undoubled

    assert undoubled("tanh((−0.2))") == "tanh(−0.2)"
    assert undoubled("0.5·(−0.2) + ((−0.1)·0.3)") == "0.5·(−0.2) + ((−0.1)·0.3)"
    assert undoubled(r"\left((-2.5 \times 10^{-6}) \right)", latex=True) == \
        r"\left(-2.5 \times 10^{-6} \right)"


def test_the_blogs_note_is_left_out_of_a_run_a_mistake_changes(run):
    note_says = "tracenn prints 0.291027774"
    assert note_says in run("mazur").stdout
    out = run("mazur", "--mistake", "updated-weights").stdout
    assert "0.291027924" in out and note_says not in out
    for args in (["--lr", "0.4"], ["--optimizer", "adam"], ["--update-biases"]):
        assert note_says not in run("mazur", *args).stdout, args
    assert note_says not in str(tracenn.trace("mazur", 1, mistakes=["updated-weights"]))
    assert note_says in str(tracenn.trace("mazur", 1))


def _commands():
    from tracenn.cli import cli

    import click

    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}


def _option(command, name):
    return next((p for p in command.params if name in getattr(p, "opts", ())), None)


def test_optimizer_and_mistake_helps_are_short_and_the_same_everywhere():
    seen = {"--optimizer": set(), "--mistake": set()}
    for name, command in _commands().items():
        for flag in seen:
            option = _option(command, flag)
            if option is not None and name not in ("mnist", "spec", "graph"):  # theirs mean other things
                seen[flag].add(option.help)
    assert len(seen["--mistake"]) == 1 and len(seen["--optimizer"]) == 1, seen
    (mistake,), (optimizer,) = seen["--mistake"], seen["--optimizer"]
    assert len(optimizer) < 200 and "←" in optimizer and "adamw" in optimizer
    # the mistake's names, with no paragraph of descriptions
    assert len(mistake) < 400 and "σ(a)" not in mistake and "sigma-prime-of-a" in mistake


def test_every_number_in_an_interval_is_written_alike_in_the_helps(run):
    for name in _commands():
        helped = run(name, "--help").stdout
        assert "FLOAT RANGE" not in helped, name
    assert "--momentum NUMBER IN [0, 1)" in run("mnist", "--help").stdout
    assert "--momentum NUMBER IN [0, 1)" in run("mazur", "--help").stdout


def test_the_readmes_options_table_claims_only_options_the_commands_have():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("| option | on | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    commands = _commands()
    assert len(rows) >= 9
    for option, on, _ in rows:
        flag = re.match(r"\| `(--[\w-]+)", option).group(1)
        named = [c.strip() for c in on.split(",")]
        assert "all" not in named, flag  # the commands are named, each one checked
        for name in named:
            assert _option(commands[name], flag) is not None, f"{name} has no {flag}"


def test_the_license_is_an_spdx_expression_as_setuptools_wants_it():
    """setuptools ≥ 77 warns that a `project.license` table is deprecated (PEP 639)."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml")
                            .read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert "setuptools>=77" in project["build-system"]["requires"]
    assert not any("License ::" in c for c in project["project"].get("classifiers", []))
