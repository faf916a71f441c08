"""Test log-likelihood in nats and bits/dim, and the two baselines beside it.

Conventions of the papers: binary images report the negative log-likelihood in
nats per image (binarized MNIST tables); images with more levels report
bits per sub-pixel, -log2 p(x) / (H W C) (van den Oord et al. 2016a, 4.1).
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from arzoo.progress import progress_bar


@dataclasses.dataclass
class LikelihoodReport:
    """Mean negative log-likelihood over a test set.

    `description` says what the log-likelihood is ("exact", or for a
    latent-variable model the bound, whose negative is then an upper bound on
    the NLL); `terms` holds the mean of each of a bound's terms in nats per
    image ("elbo", "kl", ...: `model.log_prob_terms`), empty when exact."""

    nats_per_image: float
    bits_per_dim: float
    num_examples: int
    description: str = "exact"
    terms: dict = dataclasses.field(default_factory=dict)
    is_bound: bool = False

    def headline(self, num_levels):
        """The paper-convention figure: nats for binary data, else bits/dim,
        and which bound it is when it is not exact."""
        figure = f"{self.nats_per_image:.2f} nats/image" if num_levels == 2 else f"{self.bits_per_dim:.4f} bits/dim"
        if self.description == "exact":
            return figure
        if self.is_bound:
            return f"{figure} (an upper bound on the NLL: log p(x) is {self.description})"
        return f"{figure} ({self.description})"


def _batches(dataset, batch_size, max_examples):
    if max_examples is not None:
        dataset = dataset.take(max_examples)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _condition(model, batch):
    if model.num_classes is not None:
        return batch["label"]
    if model.condition_shape is not None and model.external_conditions:
        return batch["condition"]
    return None  # unconditional, or a model whose condition is its own code (the auto-encoder)


def evaluate_log_likelihood(
    model, dataset, batch_size=256, max_examples=None, progress=None, num_members=None
):
    """Test NLL of `model` on an unbatched dataset of {"image", "label"}
    (exact, or the bound a latent-variable model's `log_prob_terms` gives,
    with its terms: `LikelihoodReport.description`, `.terms`).

    Args:
      model: an `AutoregressiveImageModel`.
      dataset: unbatched `tf.data.Dataset` of int levels.
      batch_size: evaluation batch size.
      max_examples: evaluate only the first examples.
      progress: optional callable(num_done) called after every batch.
      num_members: score the ensemble of this many members instead
        (`model.ensemble_log_prob`: MADE's masks, DeepNADE's orderings).
    """
    totals, count = {}, 0

    @tf.function(reduce_retracing=True, autograph=False)
    def batch_log_prob(x, condition):
        return model.log_prob_terms(x, condition)

    if num_members is not None:
        if not hasattr(model, "ensemble_log_prob"):
            raise ValueError(
                f"num_members={num_members} but the {type(model).__name__} model has no "
                "ensemble (MADE and DeepNADE have)."
            )

        def batch_log_prob(x, condition):  # noqa: F811 (eager: K members, K passes)
            return {"log_prob": model.ensemble_log_prob(x, condition, num_members)}

    bar = progress_bar(total=max_examples, desc="evaluating", unit="images")
    for batch in _batches(dataset, batch_size, max_examples):
        x = tf.cast(batch["image"], tf.int32)
        for name, values in batch_log_prob(x, _condition(model, batch)).items():
            totals[name] = totals.get(name, 0.0) + float(tf.reduce_sum(tf.cast(values, tf.float64)))
        count += int(x.shape[0])
        bar.update(int(x.shape[0]))
        if progress is not None:
            progress(count)
    bar.close()
    if count == 0:
        raise ValueError("The evaluation dataset is empty.")
    nats = -totals.pop("log_prob") / count
    dims = int(np.prod(model.image_shape))
    terms = {name: total / count for name, total in totals.items()}
    return LikelihoodReport(nats, nats / (dims * math.log(2.0)), count, model.likelihood_description, terms,
                            is_bound=not model.likelihood_is_exact)


def uniform_baseline(image_shape, num_levels):
    """Every level equally likely: log2(num_levels) bits/dim."""
    dims = int(np.prod(image_shape))
    nats = dims * math.log(num_levels)
    return LikelihoodReport(nats, math.log2(num_levels), 0)


def independent_pixel_baseline(train, test, image_shape, num_levels, max_examples=None, batch_size=1024):
    """Each sub-pixel its own categorical, fitted on `train` (add-one smoothing),
    scored on `test`: what a model gains over ignoring all dependence."""
    dims = int(np.prod(image_shape))
    offsets = np.arange(dims) * num_levels  # one block of num_levels counts per sub-pixel
    counts = np.ones(dims * num_levels, np.float64)
    for batch in _batches(train, batch_size, max_examples):
        x = batch["image"].numpy().reshape(-1, dims).astype(np.int64)
        counts += np.bincount((x + offsets).ravel(), minlength=dims * num_levels)
    counts = counts.reshape(tuple(image_shape) + (num_levels,))
    log_p = np.log(counts / counts.sum(axis=-1, keepdims=True))
    total, count = 0.0, 0
    for batch in _batches(test, batch_size, None):
        x = batch["image"].numpy().astype(np.int64)
        picked = np.take_along_axis(log_p[None], x[..., None], axis=-1)
        total += picked.sum()
        count += len(x)
    nats = -total / count
    return LikelihoodReport(nats, nats / (dims * math.log(2.0)), count)


def diagonal_gaussian_baseline(train, test):
    """Mean NLL in nats per example of `test` `[N, D]` under independent
    Gaussians per dimension fitted on `train` (maximum likelihood): what a
    real-valued model gains over ignoring all dependence."""
    train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
    mean, var = train.mean(axis=0), np.maximum(train.var(axis=0), 1e-12)
    nll = 0.5 * (np.log(2 * np.pi * var) + (test - mean) ** 2 / var).sum(axis=1)
    return float(nll.mean())


@dataclasses.dataclass
class SequenceReport:
    """Total negative log-likelihood of a set of sequences (audio clips, text windows)."""

    total_nats: float
    num_sequences: int
    num_steps: int
    levels: np.ndarray  # every level scored, flat, for the baselines

    @property
    def bits_per_step(self):
        return self.total_nats / (self.num_steps * math.log(2.0))

    @property
    def nats_per_sequence(self):
        return self.total_nats / self.num_sequences


def evaluate_sequences(model, dataset, batch_size, what="sequences"):
    """Exact test NLL of a sequence model (WaveNet, Char-RNN) on an unbatched
    dataset of its training examples (read through `model.inputs_from_batch`)."""
    nll = tf.function(
        lambda x, c: -tf.reduce_sum(model.teacher_forced_log_probs(x, c), axis=1),
        reduce_retracing=True,
        autograph=False,
    )
    total, count, steps, levels = 0.0, 0, 0, []
    with progress_bar(desc="evaluating", unit=what.split()[0]) as bar:
        for batch in dataset.batch(batch_size).as_numpy_iterator():
            x, condition = model.inputs_from_batch(batch)
            total += float(np.sum(nll(tf.constant(x), condition)))
            count += len(x)
            steps += x.size
            levels.append(np.asarray(x).ravel())
            bar.update(len(x))
    if count == 0:
        raise ValueError(f"The evaluation dataset gave no {what}.")
    return SequenceReport(total, count, steps, np.concatenate(levels))


def independent_levels_baseline(train_levels, test_levels, num_levels):
    """Bits per step of `test_levels` under each level's frequency in
    `train_levels` (an iterable of int arrays), add-one smoothed: the
    unigram baseline of a sequence model."""
    counts = np.ones(num_levels, np.float64)
    for levels in train_levels:
        counts += np.bincount(np.asarray(levels).ravel(), minlength=num_levels)
    log2_p = np.log2(counts / counts.sum())
    return float(-log2_p[np.asarray(test_levels)].mean())
