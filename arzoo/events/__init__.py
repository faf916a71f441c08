"""Event spaces: what every layer above `arzoo.models` needs to know about a
kind of event (images, audio, real vectors, text, video, real-valued images), asked of the model's
event space instead of testing a modality string.

`event_space(model)` is the one place a model's `modality` is read. An event
space owns: the examples of a data split in the form the model trains on and
their checks, the evaluation unit, baselines and report, how samples are
written for people (PNG grid, WAV, text, .npy) and to TensorBoard, the
default condition of a sampling command, and which serving module exports
the model.
"""

from arzoo.events.audio import AudioSpace
from arzoo.events.base import EventSpace
from arzoo.events.image import ImageSpace
from arzoo.events.real_image import RealImageSpace
from arzoo.events.text import TextSpace
from arzoo.events.vector import VectorSpace
from arzoo.events.video import VideoSpace

EVENT_SPACES = {space.name: space for space in (ImageSpace, AudioSpace, VectorSpace, TextSpace, VideoSpace, RealImageSpace)}


def event_space(model):
    """The event space of `model` (by its class's `modality`)."""
    modality = getattr(model, "modality", None)
    try:
        return EVENT_SPACES[modality](model)
    except KeyError:
        raise ValueError(
            f"{type(model).__name__} has modality {modality!r}, which no event space serves; "
            f"known: {', '.join(EVENT_SPACES)}."
        ) from None


__all__ = [
    "EVENT_SPACES", "AudioSpace", "EventSpace", "ImageSpace", "RealImageSpace", "TextSpace", "VectorSpace", "VideoSpace",
    "event_space",
]
