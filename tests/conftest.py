import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pathlib  # noqa: E402

import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root():
    return REPO


# The longest modules first (worker seconds, measured in `make test --durations`),
# so that under `--dist loadfile --no-loadscope-reorder` (the Makefile's: xdist
# otherwise orders modules by their number of tests, which put the 150 s
# one-test demo last) the two workers' last modules are short ones and
# neither waits long for the other (longest-processing-time-first order).
LONG_MODULES_FIRST = [
    "tests/models/test_contract.py",
    "tests/serving/test_compat.py",
    "tests/test_demo.py",
    "tests/models/test_wavenet_learning.py",
    "tests/training/test_preemption.py",
    "tests/serving/test_export_atomic.py",
    "tests/training/test_multi_worker.py",
    "tests/models/test_char_rnn_learning.py",
    "tests/models/test_density_learning.py",
    "tests/models/test_pixelcnn_pp.py",
    "tests/serving/test_grpc.py",
    "tests/test_cli_sample.py",
    "tests/evaluation/test_likelihood.py",
]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONG_MODULES_FIRST)}

    def key(indexed):
        index, item = indexed
        module = item.path.resolve().relative_to(REPO).as_posix()
        return (rank.get(module, len(rank)), index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]
