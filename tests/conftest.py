import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pathlib  # noqa: E402

import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root():
    return REPO


# Scheduling for `pytest -n N --dist loadgroup` (make test): every file is one
# unit of work, as with --dist loadfile, so module-scoped fixtures are built
# once; but the contract suite, which runs every family, is one unit per
# family, so its share of the suite spreads over the workers. (A family's
# tests stay together: they share its model, its traced and compiled
# samplers.) xdist reads the xdist_group marks in its own collection hook,
# so they are added in a wrapper, whose first half runs before any plain
# implementation. (xdist 3.8 names the groups through Node._nodeid, which
# pytest 9 no longer reads: setup.cfg keeps pytest below 9.)
#
# Workers take the units in collection order, so the longest units,
# test_compat (seven minutes of one worker: 17 exports through four
# loaders) and the README lines, go first: started last, test_compat ran
# alone for the suite's last minutes.
CONTRACT_FILE = "tests/models/test_contract.py"
# The longest units, longest first: test_compat, then the README lines (every
# shell line of three READMEs, about eight minutes of one worker).
LONGEST_FILES = ("tests/serving/test_compat.py", "tests/test_readme_commands.py")


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        path, _, _ = item.nodeid.partition("::")
        group = path
        family = getattr(getattr(item, "callspec", None), "params", {}).get("family")
        if path == CONTRACT_FILE and family is not None:
            group = f"{path}:{family}"
        item.add_marker(pytest.mark.xdist_group(group))
    def rank(item):
        path = item.nodeid.partition("::")[0]
        return LONGEST_FILES.index(path) if path in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable
    return (yield)
