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
# Workers take the units in collection order, so the longest unit by far,
# test_compat (seven minutes of one worker: 17 exports through four
# loaders), goes first: started last, it ran alone for the suite's last
# minutes.
CONTRACT_FILE = "tests/models/test_contract.py"
LONGEST_FILE = "tests/serving/test_compat.py"


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        path, _, _ = item.nodeid.partition("::")
        group = path
        family = getattr(getattr(item, "callspec", None), "params", {}).get("family")
        if path == CONTRACT_FILE and family is not None:
            group = f"{path}:{family}"
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FILE + "::"))  # stable
    return (yield)
