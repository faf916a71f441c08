"""Likelihood evaluation, baselines and the causality audit."""

from arzoo.evaluation.causality import (
    audit_position,
    audit_receptive_field,
    audit_sequence_step,
    causality_violations,
    dependency_maps,
    random_inputs,
    sequence_dependency_maps,
)
from arzoo.evaluation.speaker_id import SpeakerIdentification, identify_speakers
from arzoo.evaluation.likelihood import (
    LikelihoodReport,
    diagonal_gaussian_baseline,
    evaluate_log_likelihood,
    independent_pixel_baseline,
    uniform_baseline,
)

__all__ = [
    "LikelihoodReport",
    "SpeakerIdentification",
    "identify_speakers",
    "audit_position",
    "audit_receptive_field",
    "audit_sequence_step",
    "causality_violations",
    "dependency_maps",
    "diagonal_gaussian_baseline",
    "evaluate_log_likelihood",
    "independent_pixel_baseline",
    "random_inputs",
    "sequence_dependency_maps",
    "uniform_baseline",
]
