"""TF Serving warmup records, their replay by `arzoo serve`, and the XLA flag.

Every export writes `assets.extra/tf_serving_warmup_requests` (a TFRecord of
`tensorflow.serving.PredictionLog`): one PredictLog per signature at batch 1,
and `sample` at the larger batches. `arzoo serve` replays them before a
version is AVAILABLE; a bad file fails that version's load, naming the file
and the record, while other versions keep serving. An XLA export's sampling
signatures are refused with FAILED_PRECONDITION naming
--xla_cpu_compilation_enabled unless the server runs with it.
"""

import logging
import os
import shutil

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc, prediction_log_pb2

from arzoo.cli import build_parser
from arzoo.models import RNADE
from arzoo.serving import Client, ServingError, export_model
from arzoo.serving.server import ModelEntry, Server
from arzoo.serving.signatures import batch_buckets
from arzoo.serving.warmup import MAX_WARMUP_RECORDS, WARMUP_PATH, read_warmup_records
from tests import test_case
from tests.serving import compat_helpers as ch

MAX_BATCH = 4
XLA_FLAG = "--xla_cpu_compilation_enabled"


def _records(path):
    """The warmup file's records parsed with the protos alone (not arzoo's reader)."""
    return [prediction_log_pb2.PredictionLog.FromString(r.numpy())
            for r in tf.data.TFRecordDataset(os.path.join(path, WARMUP_PATH))]


def _runs(logs):
    """[(signature, batch)] of PredictLogs."""
    runs = []
    for log in logs:
        request = log.predict_log.request
        batch = {tuple(d.size for d in p.tensor_shape.dim)[0] for p in request.inputs.values()}
        assert len(batch) == 1, request
        runs.append((request.model_spec.signature_name, batch.pop()))
    return runs


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A class-conditional image model exported portable and XLA, a
    conditioned WaveNet, a class-conditional Char-RNN and RNADE."""
    base = tmp_path_factory.mktemp("warmup_exports")
    image = test_case.build_tiny("gated_pixelcnn", **test_case.EVENT_VARIANTS["image"]["class"])
    audio = ch.build_tiny_audio("wavenet", **test_case.EVENT_VARIANTS["audio"]["both"])
    text = test_case.build_tiny("char_rnn", **test_case.EVENT_VARIANTS["text"]["class"])
    vector = RNADE(num_dims=3, num_hidden=4, num_components=2)
    return {
        "base": base,
        "image": image,
        "portable": export_model(image, base, "portable", max_batch_size=MAX_BATCH),
        "xla": export_model(image, base, "xla", max_batch_size=MAX_BATCH, xla=True),
        "audio": export_model(audio, base, "audio", max_batch_size=MAX_BATCH),
        "text": export_model(text, base, "text", max_batch_size=MAX_BATCH, max_length=40),
        "vector": export_model(vector, base, "vector", max_batch_size=MAX_BATCH),
    }


@pytest.mark.parametrize("which", ["portable", "xla", "audio", "text", "vector"])
def test_records_are_prediction_logs_for_every_signature(exports, which):
    path = exports[which]
    logs = _records(path)
    assert 0 < len(logs) <= MAX_WARMUP_RECORDS
    assert all(log.WhichOneof("log_type") == "predict_log" for log in logs)
    tensors = ch.signature_tensors(path)
    larger = batch_buckets(MAX_BATCH)[1:] if which == "xla" else [MAX_BATCH]
    assert sorted(_runs(logs)) == sorted([(s, 1) for s in tensors] + [("sample", b) for b in larger])
    for log in logs:
        request = log.predict_log.request
        inputs = tensors[request.model_spec.signature_name]["inputs"]
        assert set(request.inputs) == set(inputs)
        for alias, proto in request.inputs.items():
            assert tf.dtypes.as_dtype(proto.dtype).as_numpy_dtype().dtype.name == inputs[alias][1], alias
    assert [log.SerializeToString() for log in read_warmup_records(path)] == [log.SerializeToString() for log in logs]


def test_every_record_runs_through_the_loader(exports):
    """The records are valid requests: each runs through the TF2 loader."""
    for which in ("portable", "audio", "text", "vector"):
        loaded = tf.saved_model.load(exports[which])
        for log in _records(exports[which]):
            request = log.predict_log.request
            outputs = loaded.signatures[request.model_spec.signature_name](
                **{k: tf.make_ndarray(v) for k, v in request.inputs.items()})
            assert outputs


def test_export_without_warmup_writes_none(exports, tmp_path):
    path = export_model(exports["image"], tmp_path, "cold", max_batch_size=MAX_BATCH, warmup=False)
    assert not os.path.exists(os.path.join(path, "assets.extra"))
    assert read_warmup_records(path) == []


def _server(base, name, **kwargs):
    return Server([ModelEntry(name, str(base / name))], poll_wait_seconds=3600, **kwargs)


def test_server_replays_every_record_before_the_version_is_available(exports, monkeypatch, caplog):
    from arzoo.serving import server as server_module

    ran, states = [], set()
    original = server_module.Servable.run
    server = _server(exports["base"], "portable")
    status_request = get_model_status_pb2.GetModelStatusRequest()
    status_request.model_spec.name = "portable"

    def recording(self, signature_name, inputs, aliases, batched=True):
        ran.append((signature_name, len(next(iter(inputs.values())))))
        states.update(row.state for row in server.model_status(status_request).model_version_status)
        return original(self, signature_name, inputs, aliases, batched)

    monkeypatch.setattr(server_module.Servable, "run", recording)
    # A handler on the server's own logger: other tests may stop its propagation.
    logger = server_module._LOG
    monkeypatch.setattr(logger, "level", logging.INFO)
    logger.addHandler(caplog.handler)
    try:
        server.poll()  # loads (and warms up) without serving
    finally:
        logger.removeHandler(caplog.handler)
    assert sorted(ran) == sorted(_runs(_records(exports["portable"])))
    # While the records replay, GetModelStatus says LOADING, never AVAILABLE.
    assert states == {get_model_status_pb2.ModelVersionStatus.LOADING}
    after = server.model_status(status_request).model_version_status
    assert [row.state for row in after] == [get_model_status_pb2.ModelVersionStatus.AVAILABLE]
    assert any("warmed up portable version 1" in r.getMessage() for r in caplog.records)
    servable = server._models["portable"].loaded[1]
    assert servable.warmup_seconds is not None
    disabled = _server(exports["base"], "portable", enable_model_warmup=False)
    ran.clear()
    disabled.poll()
    assert ran == [] and disabled._models["portable"].loaded[1].warmup_seconds is None


def _copy_version(base, name, source, version):
    """`source` copied as `<base>/<name>/<version>` (through a temporary name, as an export writes)."""
    temporary = base / name / f".incomplete-copy-{version}"
    shutil.copytree(source, temporary)
    return temporary


BAD_FILES = {
    "not a TFRecord": (b"this is not a TFRecord file at all, just bytes", "record 0 is not a readable TFRecord"),
    "not a PredictionLog": (None, "record 0 is not a tensorflow.serving.PredictionLog"),
    "a failing request": (None, "record 1 (signature 'sample') failed"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_warmup_file_fails_that_version_only(exports, tmp_path, case):
    base, name = tmp_path, "model"
    (base / name).mkdir()
    os.rename(_copy_version(base, name, exports["portable"], 1), base / name / "1")
    server = _server(base, name).start()
    try:
        bad = _copy_version(base, name, exports["portable"], 2)
        path = bad / WARMUP_PATH
        data, words = BAD_FILES[case]
        if case == "not a PredictionLog":
            with tf.io.TFRecordWriter(str(path)) as writer:
                writer.write(b"\xff\xfe not a proto")
        elif case == "a failing request":
            logs = _records(exports["portable"])
            request = logs[1].predict_log.request
            request.model_spec.signature_name = "sample"
            request.inputs.clear()
            request.inputs["seed"].CopyFrom(tf.make_tensor_proto(np.zeros([1, 2], np.int32)))
            request.inputs["temperature"].CopyFrom(tf.make_tensor_proto(np.zeros([1], np.float32)))  # not > 0
            request.inputs["condition"].CopyFrom(tf.make_tensor_proto(np.zeros([1], np.int32)))
            with tf.io.TFRecordWriter(str(path)) as writer:
                for log in logs:
                    writer.write(log.SerializeToString())
        else:
            path.write_bytes(data)
        os.rename(bad, base / name / "2")
        server.poll()
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = name
        with grpc.insecure_channel(server.address) as channel:
            response = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request)
        statuses = {row.version: row for row in response.model_version_status}
        with Client(server.address, name) as client:
            assert statuses[1].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
            assert statuses[2].state == get_model_status_pb2.ModelVersionStatus.END
            message = statuses[2].status.error_message
            assert str(base / name / "2" / WARMUP_PATH) in message and words in message, message
            # The latest request is answered by version 1, which keeps serving.
            assert client.log_prob(np.zeros([1, 4, 4, 1], np.int32), condition=np.zeros([1], np.int32))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def xla_servers(exports):
    """The XLA export behind a server without XLA (the default) and one with it, both with REST."""
    off = _server(exports["base"], "xla", rest_api_port=0).start()
    on = _server(exports["base"], "xla", rest_api_port=0, xla_cpu_compilation_enabled=True).start()
    yield off, on
    off.stop()
    on.stop()


def test_xla_signatures_are_refused_without_the_flag(exports, xla_servers):
    off, on = xla_servers
    seeds = np.array([[1, 2], [3, 4], [5, 6]], np.int32)
    labels = np.array([0, 1, 0], np.int32)
    expected = exports["image"].sample(seeds=seeds, condition=labels).numpy()
    for address in (off.address, off.rest_address):
        with Client(address, "xla") as client:
            with pytest.raises(ServingError) as err:
                client.sample(seeds, condition=labels)
            assert XLA_FLAG + "=true" in str(err.value), err.value
            if not address.startswith("http"):
                assert err.value.code == grpc.StatusCode.FAILED_PRECONDITION
            # The portable signatures of the same export still serve.
            assert client.log_prob(expected, condition=labels)["log_prob"].shape == (3,)
    for address in (on.address, on.rest_address):
        with Client(address, "xla") as client:
            np.testing.assert_array_equal(client.sample(seeds, condition=labels), expected)


def test_tf_serving_own_xla_error_names_the_flag():
    """tensorflow_model_server answers an XLA signature without the flag with
    INTERNAL "XLA compilation disabled"; the client's error says what to do."""
    err = ServingError(grpc.StatusCode.INTERNAL, "XLA compilation disabled\n\t [[{{node StatefulPartitionedCall}}]]")
    assert XLA_FLAG + "=true" in str(err)


@pytest.mark.parametrize("given, xla, warmup", [
    ([], False, True),
    ([XLA_FLAG], True, True),
    ([XLA_FLAG + "=true", "--enable_model_warmup=false"], True, False),
    (["--xla-cpu-compilation-enabled=false"], False, True),
])
def test_serve_flags(given, xla, warmup):
    args = build_parser().parse_args(["serve", "--model_base_path", "x", *given])
    assert (args.xla_cpu_compilation_enabled, args.enable_model_warmup) == (xla, warmup)


def test_serve_flag_refuses_other_values(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", XLA_FLAG + "=maybe"])
    assert "expected true or false, got 'maybe'" in capsys.readouterr().err
