"""Training: strategy selection, one custom loop, checkpoints, TensorBoard.

`train(config, output_dir)` runs the same loop under every strategy
("default", "mirrored", "multi_worker", "tpu"); see `loop` for the details.
`distill(teacher_run, config, output_dir)` runs it to distil a WaveNet into
a Parallel WaveNet student (`distillation`).
"""

from arzoo.training.checkpoints import CheckpointError, Checkpointer
from arzoo.training.distillation import distill
from arzoo.training.loop import TrainResult, make_optimizer, print_result, train
from arzoo.training.metrics import DatasetBitsPerDim, dataset_bits_per_dim, per_example_bits_per_dim
from arzoo.training.strategy import STRATEGIES, configure_logical_cpus, is_chief, make_strategy

__all__ = [
    "CheckpointError",
    "Checkpointer",
    "STRATEGIES",
    "TrainResult",
    "DatasetBitsPerDim",
    "configure_logical_cpus",
    "dataset_bits_per_dim",
    "distill",
    "is_chief",
    "make_optimizer",
    "make_strategy",
    "per_example_bits_per_dim",
    "print_result",
    "train",
]
