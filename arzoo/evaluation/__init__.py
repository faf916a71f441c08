"""Likelihood evaluation, baselines and the causality audit."""

from arzoo.evaluation.causality import (
    audit_position,
    causality_violations,
    dependency_maps,
    random_inputs,
)
from arzoo.evaluation.likelihood import (
    LikelihoodReport,
    evaluate_log_likelihood,
    independent_pixel_baseline,
    uniform_baseline,
)

__all__ = [
    "LikelihoodReport",
    "audit_position",
    "causality_violations",
    "dependency_maps",
    "evaluate_log_likelihood",
    "independent_pixel_baseline",
    "random_inputs",
    "uniform_baseline",
]
