import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pathlib  # noqa: E402

import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root():
    return REPO


# Scheduling for `pytest -n N --dist loadgroup --no-loadscope-reorder` (make
# test): every file is one unit of work, as with --dist loadfile, so
# module-scoped fixtures are built once; but the contract suite, which runs
# every family, is one unit per family, and the README lines one unit per
# document, so their share of the suite spreads over the workers. (A family's
# tests stay together: they share its model, its traced and compiled
# samplers.) xdist reads the xdist_group marks in its own collection hook,
# so they are added in a wrapper, whose first half runs before any plain
# implementation. (xdist 3.8 names the groups through Node._nodeid, which
# pytest 9 no longer reads: setup.cfg keeps pytest below 9.)
#
# Workers take the units in collection order (xdist's default reorders them
# by their number of tests, so units of few long tests went last: hence
# --no-loadscope-reorder), so the longest units go first: started last, one
# ran alone for the suite's last minutes.
CONTRACT_FILE = "tests/models/test_contract.py"
README_FILE = "tests/test_readme_commands.py"
# The longest units, longest first (seconds of one worker, make test's
# --durations): test_compat (240: 17 exports through four loaders),
# test_xla_export (230), serving/README.md's lines (120), the demo (85).
# (README.md's lines, ten minutes, are an `extras` test.)
LONGEST_UNITS = ("tests/serving/test_compat.py", "tests/serving/test_xla_export.py",
                 f"{README_FILE}:serving/README.md", "tests/test_demo.py")


def _unit(item):
    """The xdist group of a test: its file, or its file and family / document."""
    path = item.nodeid.partition("::")[0]
    params = getattr(getattr(item, "callspec", None), "params", {})
    if path == CONTRACT_FILE and "family" in params:
        return f"{path}:{params['family']}"
    if path == README_FILE and "document" in params:
        return f"{path}:{params['document']}"
    return path


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_unit(item)))

    def rank(item):
        unit = _unit(item)
        return LONGEST_UNITS.index(unit) if unit in LONGEST_UNITS else len(LONGEST_UNITS)

    items.sort(key=rank)  # stable
    return (yield)
