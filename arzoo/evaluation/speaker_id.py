"""Speaker identification by likelihood: does global conditioning work?

For a clip x and a model conditioned on speaker ids, the speaker whose
condition gives x the highest likelihood, argmax_s log p(x | s), is the
model's guess (van den Oord et al. 2016, section 3.1, conditions WaveNet on
the speaker; picking the most likely speaker tests that the model learnt to
tell them apart). With equal priors this is the Bayes classifier of the model.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from arzoo.progress import progress_bar


@dataclasses.dataclass
class SpeakerIdentification:
    """Result of `identify_speakers`.

    Attributes:
      accuracy: fraction of clips whose most likely speaker is the true one.
      num_clips: clips evaluated.
      chance: 1 / num_speakers.
      log_likelihoods: `[N, S]` nats, log p(clip | speaker).
      true_speakers, predicted: `[N]` ints.
      confusion: `[S, S]` counts, row = true speaker, column = predicted.
    """

    accuracy: float
    num_clips: int
    chance: float
    log_likelihoods: np.ndarray
    true_speakers: np.ndarray
    predicted: np.ndarray
    confusion: np.ndarray

    def summary(self):
        return {
            "accuracy": self.accuracy,
            "num_clips": self.num_clips,
            "chance": self.chance,
            "confusion": self.confusion.tolist(),
        }


def speaker_log_likelihoods(model, clips, batch_size=16):
    """`[N, S]`: log p(clip n | speaker s) for every clip `[N, T]` and speaker."""
    clips = np.asarray(clips)
    speakers = model.num_speakers
    log_prob = tf.function(
        lambda x, s: tf.reduce_sum(model.teacher_forced_log_probs(x, s), axis=1),
        reduce_retracing=True,
        autograph=False,
    )
    out = np.zeros((len(clips), speakers))
    with progress_bar(total=speakers * len(clips), desc="identifying speakers", unit="clip x speaker") as bar:
        for s in range(speakers):
            for start in range(0, len(clips), batch_size):
                x = tf.constant(clips[start : start + batch_size], tf.int32)
                ids = tf.fill([x.shape[0]], s)
                out[start : start + batch_size, s] = log_prob(x, ids).numpy()
                bar.update(int(x.shape[0]))
    return out


def identify_speakers(model, dataset, max_clips=None, batch_size=16):
    """Accuracy of argmax_s log p(x | s) over the clips of `dataset`.

    Args:
      model: a WaveNet with `num_speakers` (and no local features: the
        features of real audio would give the speaker away).
      dataset: unbatched `{"audio": int32 [T] levels, "speaker": int32}` clips
        (`arzoo.data.audio_pipeline.audio_clips`).
      max_clips: evaluate at most this many.
    """
    if not model.num_speakers:
        raise ValueError("Speaker identification needs a model conditioned on speakers (num_speakers).")
    if model.local_channels:
        raise ValueError("Speaker identification needs a model without local features.")
    if max_clips is not None:
        dataset = dataset.take(max_clips)
    clips, truth = [], []
    for example in dataset.as_numpy_iterator():
        clips.append(example["audio"])
        truth.append(int(example["speaker"]))
    if not clips:
        raise ValueError("The dataset has no clips.")
    truth = np.array(truth)
    if truth.max() >= model.num_speakers:
        raise ValueError(
            f"The dataset has speaker id {truth.max()} but the model knows {model.num_speakers} speakers."
        )
    log_likelihoods = speaker_log_likelihoods(model, np.stack(clips), batch_size)
    predicted = log_likelihoods.argmax(axis=1)
    confusion = np.zeros((model.num_speakers, model.num_speakers), np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    return SpeakerIdentification(
        accuracy=float(np.mean(predicted == truth)),
        num_clips=len(truth),
        chance=1.0 / model.num_speakers,
        log_likelihoods=log_likelihoods,
        true_speakers=truth,
        predicted=predicted,
        confusion=confusion,
    )
