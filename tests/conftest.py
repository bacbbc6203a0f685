import pytest
from click.testing import CliRunner

from tracenn.cli import cli


@pytest.fixture
def run():
    """Invoke `tracenn ARGS…` in-process; returns click's Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], prog_name="tracenn")

    return invoke
