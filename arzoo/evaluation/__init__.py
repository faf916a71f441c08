"""Likelihood evaluation and the causality audit."""

from arzoo.evaluation.causality import audit_position, causality_violations, dependency_maps, random_inputs

__all__ = ["audit_position", "causality_violations", "dependency_maps", "random_inputs"]
