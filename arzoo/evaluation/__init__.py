"""Likelihood evaluation and the causality audit."""

from arzoo.evaluation.likelihood import (
    LikelihoodReport,
    evaluate_log_likelihood,
    independent_pixel_baseline,
    uniform_baseline,
)
from arzoo.evaluation.causality import audit_position, causality_violations, dependency_maps, random_inputs

__all__ = [
    "LikelihoodReport",
    "evaluate_log_likelihood",
    "independent_pixel_baseline",
    "uniform_baseline","audit_position", "causality_violations", "dependency_maps", "random_inputs"]
