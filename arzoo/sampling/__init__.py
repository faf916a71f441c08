"""Sampling: one driver (naive and cached) over the model contract, one seed per row."""

from arzoo.sampling.driver import SAMPLERS, cached_sample, naive_sample
from arzoo.sampling.seeds import as_seed, row_seeds, step_uniforms, step_uniforms_at

__all__ = ["SAMPLERS", "as_seed", "cached_sample", "naive_sample", "row_seeds", "step_uniforms", "step_uniforms_at"]
