"""Every shell line of README.md, export/README.md and serving/README.md as
one bash script per document, run as written in an empty folder (with
`zoo_configs` beside it and ARZOO_QUICK=1, which caps training and
evaluation: see README.md, "Trying the commands quickly"); the lines that
need a network, Docker, the TF Serving binary or the Makefile's own targets
are left out, each with the reason. Python blocks of serving/README.md run
in place (against the server its lines started); README.md's run in
tests/test_docs.py.

    python -m tests.readme_commands serving/README.md   # print the script
"""

import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", "export/README.md", "serving/README.md")
# Python blocks run by this script (README.md's run in tests/test_docs.py).
PYTHON_BLOCKS_OF = ("serving/README.md",)

# A line starting with one of these is left out, for the reason given.
LEFT_OUT = {
    "make run": "the whole demo, tested by tests/test_demo.py (its `arzoo demo` line runs below)",
    "make test": "the test suite this test is part of",
    "docker ": "needs Docker and the tensorflow/serving image from a registry (no network here)",
    "tensorflow_model_server ": "needs the TF Serving binary, which is not installable here",
}


def blocks(text):
    """[(language, body)] of the document's fenced code blocks, in order."""
    return re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)


def commands(body):
    """The shell commands of a bash block: continuation lines joined,
    comment-only and empty lines dropped."""
    joined, current = [], ""
    for line in body.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip() and not current.strip().startswith("#"):
            joined.append(current.strip())
        current = ""
    return joined


def left_out_reason(command):
    for prefix, reason in LEFT_OUT.items():
        if command.startswith(prefix):
            return reason
    return None


def script(document):
    """(bash script, [(command, reason)] left out) of one document."""
    text = (REPO / document).read_text()
    lines = [
        "set -eo pipefail",
        "trap 'status=$?; jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; exit $status' EXIT",
        "trap 'echo \"README LINE FAILED: $BASH_COMMAND\" >&2' ERR",
        # A person waits for `arzoo serve`'s "listening on" line before the next command.
        "wait_for_port() { for _ in $(seq 600); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0;"
        " sleep 0.2; done; echo \"nothing listens on $1\" >&2; return 1; }",
    ]
    left_out = []
    for language, body in blocks(text):
        if language == "python" and document in PYTHON_BLOCKS_OF:
            lines.append(f"echo \"[$SECONDS s] >>> python block\" >&2\npython - <<'PYTHON_BLOCK'\n{body}PYTHON_BLOCK")
            continue
        if language != "bash":
            continue
        for command in commands(body):
            reason = left_out_reason(command)
            if reason:
                left_out.append((command, reason))
                continue
            lines.append(f"echo \"[$SECONDS s] >>> \"{_quoted(command)} >&2")
            lines.append(command)
            if command.startswith("arzoo serve") and re.search(r"&\s*(#.*)?$", command):
                for port in re.findall(r"--(?:rest_api_)?port[ =](\d+)", command):
                    lines.append(f"wait_for_port {port}")
    lines.append('echo "[$SECONDS s] done" >&2')
    return "\n".join(lines) + "\n", left_out


def _quoted(command):
    return "'" + command.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    body, skipped = script(sys.argv[1])
    print(body)
    for command, reason in skipped:
        print(f"# left out: {command}  ({reason})")


def run(document, folder, data_dir, timeout):
    """Run the document's script in `folder` (created, with a `zoo_configs`
    link); the CompletedProcess, output and errors together in stdout."""
    import os
    import subprocess

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "zoo_configs").exists():
        (folder / "zoo_configs").symlink_to(REPO / "zoo_configs")
    body, _ = script(document)
    # TF_CPP_MIN_LOG_LEVEL as a user has it (unset): the commands quiet TensorFlow themselves.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(ARZOO_QUICK="1", ARZOO_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1",
               PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(["bash", "-c", body], cwd=folder, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
