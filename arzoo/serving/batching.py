"""Server-side batching of concurrent requests, as TF Serving's
`--enable_batching` does it.

Requests for the same signature of the same loaded version whose inputs
agree in every dimension but the first are queued together; a batch thread
takes the oldest queue when it holds `max_batch_size` rows or its oldest
request has waited `batch_timeout_micros`, concatenates the inputs along
dimension 0 (padded up to the next of `allowed_batch_sizes` by repeating the
first row, when given), runs the signature once and splits every output back
by rows. arzoo's signatures take one seed per row, so a row's result does not
depend on the rows beside it: a merged answer equals the unmerged one.

Two things differ from TF Serving, both on the side of the caller: a merged
run that fails (one request's temperature was negative, say) is rerun request
by request, so only the request that caused the failure sees it; and requests
of different non-batch shapes (audio of different lengths) are never padded
together (`pad_variable_length_inputs` is read but not used), they form
separate batches.

The parameters file is TF Serving's `--batching_parameters_file`: a
`BatchingParameters` text proto (tensorflow_serving/servables/tensorflow/
session_bundle_config.proto). The tensorflow-serving-api wheel does not ship
that message, so it is declared here with the same field names and numbers
and parsed by protobuf's own text format parser.
"""

import collections
import dataclasses
import logging
import os
import threading
import time

import grpc
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf import wrappers_pb2  # noqa: F401  (puts wrappers.proto in the default pool)

from arzoo.serving.requests import RequestError, as_request_error

# SharedBatchScheduler's defaults, as TF Serving uses them when a field is absent.
DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_MAX_ENQUEUED_BATCHES = 10

_INT64_FIELDS = ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads")
# The range each parameter may take, checked when the server starts. TF Serving
# asks only for positive values (a timeout >= 0) in int64; the upper bounds are
# ours, each far past any useful setting and inside what a thread can wait
# (Python's threading.TIMEOUT_MAX) or a batch dimension can hold (int32).
PARAMETER_RANGES = {
    "max_batch_size": (1, 2**31 - 1),
    "batch_timeout_micros": (0, 3_600_000_000),  # one hour
    "max_enqueued_batches": (1, 1_000_000),
    "num_batch_threads": (1, 1024),
}
_LOG = logging.getLogger("arzoo.serving")


def _batching_parameters_message():
    """The BatchingParameters message class, declared from its fields."""
    name = "arzoo/serving/batching_parameters.proto"
    pool = descriptor_pool.Default()
    try:
        descriptor = pool.FindMessageTypeByName("arzoo.serving.BatchingParameters")
    except KeyError:
        file = descriptor_pb2.FileDescriptorProto(
            name=name, package="arzoo.serving", syntax="proto3",
            dependency=["google/protobuf/wrappers.proto"],
        )
        message = file.message_type.add(name="BatchingParameters")
        field = descriptor_pb2.FieldDescriptorProto
        for number, field_name in enumerate(_INT64_FIELDS, 1):
            message.field.add(name=field_name, number=number, label=field.LABEL_OPTIONAL,
                              type=field.TYPE_MESSAGE, type_name=".google.protobuf.Int64Value")
        message.field.add(name="thread_pool_name", number=5, label=field.LABEL_OPTIONAL,
                          type=field.TYPE_MESSAGE, type_name=".google.protobuf.StringValue")
        message.field.add(name="allowed_batch_sizes", number=6, label=field.LABEL_REPEATED, type=field.TYPE_INT64)
        message.field.add(name="pad_variable_length_inputs", number=7, label=field.LABEL_OPTIONAL,
                          type=field.TYPE_BOOL)
        pool.Add(file)
        descriptor = pool.FindMessageTypeByName("arzoo.serving.BatchingParameters")
    return message_factory.GetMessageClass(descriptor)


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
    """What the batcher honours of TF Serving's BatchingParameters.

    Args:
      max_batch_size: the most rows one merged run holds.
      batch_timeout_micros: how long the oldest queued request waits for
        others before its batch runs anyway (0: run what is queued at once).
      max_enqueued_batches: queued rows beyond this many batches are refused
        (UNAVAILABLE), so a burst cannot grow the queue without bound.
      num_batch_threads: batches running at the same time.
      allowed_batch_sizes: if given, increasing, ending at max_batch_size; a
        batch is padded up to the next one (fewer compiled shapes).
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = DEFAULT_MAX_ENQUEUED_BATCHES
    num_batch_threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    allowed_batch_sizes: tuple = ()

    def __post_init__(self):
        for name, (low, high) in PARAMETER_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"Batching parameter {name} must be an integer in [{low}, {high}], got {value!r}.")
        sizes = list(self.allowed_batch_sizes)
        if sizes:
            if any(b <= a for a, b in zip(sizes, sizes[1:])) or sizes[0] < 1:
                raise ValueError(f"allowed_batch_sizes must be increasing positive integers, got {sizes}.")
            if sizes[-1] != self.max_batch_size:
                raise ValueError(
                    f"The last of allowed_batch_sizes ({sizes[-1]}) must equal max_batch_size "
                    f"({self.max_batch_size}), as TF Serving requires."
                )

    @classmethod
    def from_file(cls, path):
        """Read a `--batching_parameters_file` (BatchingParameters text proto)."""
        if os.path.isdir(path):
            raise ValueError(f"--batching_parameters_file {path!r} is a folder; give the text proto file.")
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"--batching_parameters_file {path} does not exist.") from None
        proto = _batching_parameters_message()()
        try:
            text_format.Parse(text, proto)
        except text_format.ParseError as err:
            raise ValueError(
                f"{path} is not a valid TF Serving batching parameters file (BatchingParameters "
                f"text proto): {err}"
            ) from None
        values = {name: int(getattr(proto, name).value) for name in _INT64_FIELDS if proto.HasField(name)}
        values["allowed_batch_sizes"] = tuple(int(v) for v in proto.allowed_batch_sizes)
        try:
            return cls(**values)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None

    def padded_size(self, rows):
        for size in self.allowed_batch_sizes:
            if size >= rows:
                return size
        return rows


class _Task:
    """One request waiting in a queue."""

    def __init__(self, arrays, rows):
        self.arrays = arrays
        self.rows = rows
        self.enqueued = time.monotonic()
        self.done = threading.Event()
        self.outputs = None
        self.error = None

    def finish(self, outputs=None, error=None):
        self.outputs, self.error = outputs, error
        self.done.set()


class Batcher:
    """Merges concurrent `run` calls with the same key into one call of their
    function. Start it with `start()`, end it with `stop()` (queued requests
    are then answered UNAVAILABLE)."""

    def __init__(self, parameters):
        self.parameters = parameters
        self._condition = threading.Condition()
        self._queues = collections.OrderedDict()  # key -> (function, deque of _Task)
        self._queued_rows = 0
        self._stopping = False
        self._threads = []
        self.batches_run = 0  # merged runs so far (each a single call of the function)
        self.requests_run = 0

    def start(self):
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"arzoo-batch-{i}", daemon=True)
            for i in range(self.parameters.num_batch_threads)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        with self._condition:
            self._stopping = True
            pending = [task for _, tasks in self._queues.values() for task in tasks]
            self._queues.clear()
            self._queued_rows = 0
            self._condition.notify_all()
        for task in pending:
            task.finish(error=RequestError(grpc.StatusCode.UNAVAILABLE, "The server is stopping."))
        for thread in self._threads:
            thread.join(timeout=30.0)
        self._threads = []

    def run(self, key, function, arrays):
        """`function(arrays)` -> {alias: array}, possibly merged with other
        calls of the same `key` (which must name the function and the
        inputs' non-batch shapes and dtypes)."""
        rows = len(next(iter(arrays.values()))) if arrays else 0
        limit = self.parameters.max_batch_size
        if rows < 1 or not self._threads:
            return function(arrays)
        if rows > limit:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Task size {rows} is larger than maximum input batch size {limit} (the server's "
                "batching parameters' max_batch_size).",
            )
        task = _Task(arrays, rows)
        with self._condition:
            if self._stopping:
                raise RequestError(grpc.StatusCode.UNAVAILABLE, "The server is stopping.")
            if self._queued_rows + rows > limit * self.parameters.max_enqueued_batches:
                raise RequestError(
                    grpc.StatusCode.UNAVAILABLE,
                    "The batch scheduling queue to which this task was submitted is full "
                    f"({self.parameters.max_enqueued_batches} batches of {limit} rows queued).",
                )
            self._queues.setdefault(key, (function, collections.deque()))[1].append(task)
            self._queued_rows += rows
            self._condition.notify()
        task.done.wait()
        if task.error is not None:
            raise task.error
        return task.outputs

    # ----- batch threads -----------------------------------------------------

    def _ready_batch(self):
        """(function, tasks, None) of the queue to run now, or (None, None,
        seconds until one is due; None: nothing queued)."""
        timeout = self.parameters.batch_timeout_micros / 1e6
        now, soonest = time.monotonic(), None
        for key, (function, tasks) in self._queues.items():
            if not tasks:
                continue
            full = sum(task.rows for task in tasks) >= self.parameters.max_batch_size
            wait = tasks[0].enqueued + timeout - now
            if full or wait <= 0:
                taken, rows = [], 0
                while tasks and rows + tasks[0].rows <= self.parameters.max_batch_size:
                    rows += tasks[0].rows
                    taken.append(tasks.popleft())
                if not tasks:
                    del self._queues[key]
                else:
                    self._queues.move_to_end(key)  # other queues go first next time
                self._queued_rows -= rows
                return function, taken, None
            soonest = wait if soonest is None else min(soonest, wait)
        return None, None, soonest

    def _work(self):
        while True:
            tasks = None
            try:
                with self._condition:
                    while True:
                        if self._stopping:
                            return
                        function, tasks, wait = self._ready_batch()
                        if function is not None:
                            break
                        self._condition.wait(timeout=wait)
                self._run_batch(function, tasks)
            except Exception as err:  # a batch thread never dies with requests waiting on it
                _LOG.exception("a batch thread failed; its requests are answered INTERNAL")
                failure = RequestError(grpc.StatusCode.INTERNAL, f"The batcher failed: {type(err).__name__}: {err}")
                with self._condition:
                    stranded = list(tasks or [])
                    if tasks is None:  # failed while choosing: nothing queued can be trusted to run
                        stranded += [task for _, queued in self._queues.values() for task in queued]
                        self._queues.clear()
                        self._queued_rows = 0
                for task in stranded:
                    if not task.done.is_set():
                        task.finish(error=failure)

    def _run_batch(self, function, tasks):
        rows = [task.rows for task in tasks]
        total = sum(rows)
        padded = self.parameters.padded_size(total)
        merged = {}
        for alias in tasks[0].arrays:
            parts = [task.arrays[alias] for task in tasks]
            if padded > total:
                parts.append(np.repeat(parts[0][:1], padded - total, axis=0))
            merged[alias] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        try:
            outputs = function(merged)
            if any(np.shape(value)[:1] != (padded,) for value in outputs.values()):
                raise ValueError("an output is not batched along dimension 0")
        except Exception as err:
            if len(tasks) == 1:
                tasks[0].finish(error=as_request_error(err))
                return
            for task in tasks:  # let only the request that fails see its failure
                try:
                    task.finish(outputs=function(task.arrays))
                except Exception as single:
                    task.finish(error=as_request_error(single))
            with self._condition:
                self.batches_run += len(tasks)
                self.requests_run += len(tasks)
            return
        with self._condition:
            self.batches_run += 1
            self.requests_run += len(tasks)
        start = 0
        for task, count in zip(tasks, rows):
            task.finish(outputs={alias: value[start:start + count] for alias, value in outputs.items()})
            start += count
