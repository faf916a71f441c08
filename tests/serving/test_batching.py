"""Server-side batching (`--enable_batching`): concurrent requests merged
along dimension 0 give the answers they get alone, sample for sample; a bad
request merged with good ones fails alone; the parameters file is TF
Serving's."""

import os
import threading
import types

import grpc
import numpy as np
import pytest

from arzoo.serving import export_model
from arzoo.serving.batching import Batcher, BatchingParameters
from arzoo.serving.client import Client, ServingError, row_seeds
from arzoo.serving.requests import RequestError
from arzoo.serving.server import Server
from tests import test_case

MAX_BATCH = 8
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("exports"))
    model = test_case.build_tiny("gated_pixelcnn", seed=3, **test_case.VARIANTS["class"])
    export_model(model, base, "cls", max_batch_size=MAX_BATCH)
    return types.SimpleNamespace(base=base, model=model, path=os.path.join(base, "cls"))


def start(exports, batching):
    return Server.from_flags(model_name="cls", model_base_path=exports.path, batching=batching, rest_api_port=0).start()


@pytest.fixture(scope="module")
def plain(exports):
    server = start(exports, None)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def batched(exports):
    # A long timeout, so requests sent together are merged; padded to 4 or 8 rows.
    parameters = BatchingParameters(max_batch_size=MAX_BATCH, batch_timeout_micros=300_000, num_batch_threads=2,
                                    allowed_batch_sizes=(4, 8))
    server = start(exports, parameters)
    yield server
    server.stop()


def concurrently(calls):
    """Run every call at the same moment; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i):
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as err:  # returned, so the test can check which failed
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def requests_of(sizes, first_seed=0):
    """(seeds, labels) per request: request i holds sizes[i] rows of its own seeds."""
    out = []
    for i, size in enumerate(sizes):
        seeds = np.asarray(row_seeds(first_seed + i, size))
        out.append((seeds, (np.arange(size) + i) % 3))
    return out


@pytest.mark.parametrize("target", ["address", "rest_address"])
def test_merged_samples_equal_unmerged(plain, batched, exports, target):
    requests = requests_of([1, 2, 3, 2, 1, 2, 3])  # 14 rows: several batches, some padded
    before = (batched.batcher.batches_run, batched.batcher.requests_run)
    with Client(getattr(batched, target), "cls", timeout=TIMEOUT) as client:
        merged = concurrently([lambda s=s, c=c: client.sample(s, 0.9, condition=c) for s, c in requests])
        log_probs = concurrently([lambda m=m, c=c: client.log_prob(m, condition=c)["log_prob"]
                                  for (_, c), m in zip(requests, merged)])
    batches = batched.batcher.batches_run - before[0]
    handled = batched.batcher.requests_run - before[1]
    assert handled == 2 * len(requests)
    assert batches < handled, "no request was merged with another"
    with Client(plain.address, "cls", timeout=TIMEOUT) as client:
        for (seeds, labels), got, log_prob in zip(requests, merged, log_probs):
            np.testing.assert_array_equal(got, client.sample(seeds, 0.9, condition=labels))
            np.testing.assert_allclose(log_prob, client.log_prob(got, condition=labels)["log_prob"], atol=1e-5, rtol=0)
    seeds = np.concatenate([s for s, _ in requests])
    labels = np.concatenate([c for _, c in requests])
    np.testing.assert_array_equal(
        np.concatenate(merged), exports.model.sample(seeds=seeds, temperature=0.9, condition=labels).numpy()
    )


def test_a_bad_request_merged_with_good_ones_fails_alone(plain, batched):
    requests = requests_of([2, 2, 2], first_seed=20)
    temperatures = [1.0, -1.0, 1.0]
    with Client(batched.address, "cls", timeout=TIMEOUT) as client:
        results = concurrently([lambda s=s, c=c, t=t: client.sample(s, t, condition=c)
                                for (s, c), t in zip(requests, temperatures)])
    assert isinstance(results[1], ServingError) and results[1].code == grpc.StatusCode.INVALID_ARGUMENT
    assert "temperature" in results[1].details
    with Client(plain.address, "cls", timeout=TIMEOUT) as client:
        for i in (0, 2):
            seeds, labels = requests[i]
            np.testing.assert_array_equal(results[i], client.sample(seeds, 1.0, condition=labels))


def test_different_signatures_and_shapes_are_not_mixed(batched, exports):
    seeds = np.asarray(row_seeds(5, 3))
    labels = np.array([0, 1, 2], np.int32)
    x = test_case.random_images(exports.model, 3, seed=2)
    with Client(batched.address, "cls", timeout=TIMEOUT) as client:
        sample, log_prob, state = concurrently([
            lambda: client.sample(seeds, condition=labels),
            lambda: client.log_prob(x, condition=labels)["log_prob"],
            lambda: client.initial_state(seeds[:2], condition=labels[:2]),
        ])
    np.testing.assert_array_equal(sample, exports.model.sample(seeds=seeds, condition=labels).numpy())
    np.testing.assert_allclose(log_prob, exports.model.log_prob(x, labels).numpy(), atol=1e-5, rtol=0)
    assert state["state_position"].shape[0] == 2


def test_a_request_over_the_batch_limit_is_refused(exports):
    server = Server.from_flags(model_name="cls", model_base_path=exports.path,
                               batching=BatchingParameters(max_batch_size=2, num_batch_threads=1)).start()
    try:
        with Client(server.address, "cls", timeout=TIMEOUT) as client:
            with pytest.raises(ServingError, match="Task size 3 is larger than maximum input batch size 2"):
                client.sample(row_seeds(0, 3), condition=[0, 1, 2])
            assert client.sample(row_seeds(0, 2), condition=[0, 1]).shape[0] == 2
    finally:
        server.stop()


# ----- the parameters file --------------------------------------------------


def test_tf_serving_batching_parameters_file(tmp_path):
    path = tmp_path / "batching.config"
    path.write_text(
        "max_batch_size { value: 16 }\nbatch_timeout_micros { value: 2000 }\n"
        "max_enqueued_batches { value: 4 }\nnum_batch_threads { value: 3 }\n"
        'thread_pool_name { value: "pool" }\nallowed_batch_sizes: 8\nallowed_batch_sizes: 16\n'
        "pad_variable_length_inputs: false\n"
    )
    assert BatchingParameters.from_file(str(path)) == BatchingParameters(
        max_batch_size=16, batch_timeout_micros=2000, max_enqueued_batches=4, num_batch_threads=3,
        allowed_batch_sizes=(8, 16),
    )
    defaults = tmp_path / "empty.config"
    defaults.write_text("")
    assert BatchingParameters.from_file(str(defaults)).max_batch_size == 1000  # TF Serving's default


def test_what_export_writes_is_read(tmp_path):
    from arzoo.serving.config_files import write_batching_config

    path = str(tmp_path / "batching.config")
    write_batching_config(path, max_batch_size=32)
    assert BatchingParameters.from_file(path).max_batch_size == 32


BAD_FILES = {
    "unknown field": ("max_batch_size { value: 8 }\nmax_batch_sise { value: 8 }\n", "max_batch_sise"),
    "not a text proto": ("max_batch_size = 8\n", "BatchingParameters"),
    "allowed sizes not ending at the max": (
        "max_batch_size { value: 8 }\nallowed_batch_sizes: 2\nallowed_batch_sizes: 4\n", "(4) must equal max_batch_size (8)"
    ),
    "allowed sizes decreasing": (
        "max_batch_size { value: 8 }\nallowed_batch_sizes: 8\nallowed_batch_sizes: 4\n", "increasing"
    ),
    "zero threads": ("num_batch_threads { value: 0 }\n", "num_batch_threads must be an integer in [1, 1024], got 0"),
    "negative timeout": ("batch_timeout_micros { value: -5 }\n",
                         "batch_timeout_micros must be an integer in [0, 3600000000], got -5"),
    # int64's largest: accepted before, then every batch thread died of OverflowError.
    "timeout past what a thread can wait": ("batch_timeout_micros { value: 9223372036854775807 }\n",
                                            "batch_timeout_micros must be an integer in [0, 3600000000]"),
    "a million threads": ("num_batch_threads { value: 1000000 }\n", "num_batch_threads must be an integer in [1, 1024]"),
    "batch past int32": ("max_batch_size { value: 4294967296 }\n", "max_batch_size must be an integer in [1, 2147483647]"),
    "queue past the limit": ("max_enqueued_batches { value: 9223372036854775807 }\n",
                             "max_enqueued_batches must be an integer in [1, 1000000]"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_batching_parameters_file_is_named(tmp_path, case):
    text, words = BAD_FILES[case]
    path = tmp_path / "batching.config"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        BatchingParameters.from_file(str(path))
    assert str(path) in str(info.value) and words in str(info.value), str(info.value)


def test_missing_or_folder_parameters_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        BatchingParameters.from_file(str(tmp_path / "absent.config"))
    with pytest.raises(ValueError, match="is a folder"):
        BatchingParameters.from_file(str(tmp_path))


def test_a_failing_batch_thread_answers_and_keeps_serving(monkeypatch):
    """A batch thread that fails outside the signature (here: choosing the
    batch) answers the waiting request INTERNAL and goes on; it never dies
    leaving requests waiting forever."""
    batcher = Batcher(BatchingParameters(max_batch_size=4, batch_timeout_micros=0, num_batch_threads=1)).start()
    try:
        original = Batcher._ready_batch
        calls = {"n": 0}

        def fails_once(self):
            calls["n"] += 1
            if calls["n"] == 1:
                raise OverflowError("timeout value is too large")
            return original(self)

        monkeypatch.setattr(Batcher, "_ready_batch", fails_once)
        double = lambda arrays: {"y": arrays["x"] * 2}  # noqa: E731
        answers = concurrently([lambda: batcher.run("k", double, {"x": np.ones([1], np.int32)})])
        assert isinstance(answers[0], RequestError) and "OverflowError" in answers[0].message
        np.testing.assert_array_equal(batcher.run("k", double, {"x": np.arange(3)})["y"], [0, 2, 4])
    finally:
        batcher.stop()
