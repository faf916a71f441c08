"""Every shell line of README.md, export/README.md and serving/README.md
runs as written, in an empty folder, with ARZOO_QUICK=1 (README.md, "Trying
the commands quickly"), and keeps TensorFlow's start-up lines off the
terminal. The lines left out are only those that need the Makefile's own
targets, Docker or the TF Serving binary; each is printed with its reason.
One document's lines run in order in one bash script (tests/readme_commands.py),
so later lines use what earlier ones made, as for a reader.

README.md's run takes nine to eleven minutes of one core (about forty
commands, each starting TensorFlow, training, compiling), which `make test`
cannot hold within its 25 minutes on two cores: it is an `extras` test
(`make test-extras`, run before an issue is resolved). `make test` still
parses every `arzoo` line of every document with the command line's own
parser, so a renamed command or option fails there at once."""

import re
import shlex

import pytest

from tests import readme_commands

START_UP_LINES = ("cudart_stub", "cpu_feature_guard", "absl::InitializeLog", "oneDNN", "cuInit")
EXPECTED_LEFT_OUT = {
    "README.md": {"make run", "make test"},
    "export/README.md": set(),
    "serving/README.md": {"docker ", "tensorflow_model_server "},
}


def shell_output(log):
    """The log without the Python blocks' parts (a Python process that
    imports TensorFlow prints its start-up lines; arzoo's commands must not)."""
    parts = re.split(r"(\[\d+ s\] >>> .*)", log)
    kept, in_python = [], False
    for part in parts:
        if part.startswith("[") and " >>> " in part:
            in_python = part.endswith(">>> python block")
        if not in_python:
            kept.append(part)
    return "".join(kept)


def arzoo_argv(command):
    """The arguments of an `arzoo ...` shell line (comment and a trailing `&` dropped)."""
    argv = shlex.split(command, comments=True)
    return argv[1:-1] if argv[-1] == "&" else argv[1:]


@pytest.mark.parametrize("document", readme_commands.DOCUMENTS)
def test_every_arzoo_line_parses(document):
    from arzoo.cli import build_parser

    parser = build_parser()
    lines = [command for language, body in readme_commands.blocks((readme_commands.REPO / document).read_text())
             if language == "bash" for command in readme_commands.commands(body) if command.startswith("arzoo ")]
    assert lines, f"{document} has no arzoo lines"
    for command in lines:
        try:
            parser.parse_args(arzoo_argv(command))
        except SystemExit as exit:
            pytest.fail(f"{document}: `{command}` does not parse (exit {exit.code})")


@pytest.mark.slow
@pytest.mark.parametrize("document", [
    pytest.param(document, marks=pytest.mark.extras) if document == "README.md" else document
    for document in readme_commands.DOCUMENTS
])
def test_every_shell_line_runs_as_written(document, tmp_path):
    _, left_out = readme_commands.script(document)
    for command, reason in left_out:
        print(f"{document}: left out `{command}`: {reason}")
    assert {prefix for prefix in readme_commands.LEFT_OUT for command, _ in left_out
            if command.startswith(prefix)} == EXPECTED_LEFT_OUT[document]
    done = readme_commands.run(document, tmp_path / "work", tmp_path / "data", timeout=1500)
    log = done.stdout
    failed = re.findall(r"README LINE FAILED: (.*)", log)
    assert done.returncode == 0, f"{document}: {failed or 'exit ' + str(done.returncode)}\n{log[-6000:]}"
    assert re.search(r"^\[\d+ s\] done$", log, flags=re.M), log[-3000:]  # the script ran to its end
    noisy = [line for line in shell_output(log).splitlines() if any(s in line for s in START_UP_LINES)]
    assert not noisy, noisy[:5]
