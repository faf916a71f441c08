"""Samplers: naive (reference) and cached (incremental), one seed per row."""

from arzoo.sampling.loops import cached_sample, naive_sample
from arzoo.sampling.seeds import as_seed, row_seeds, step_uniforms, step_uniforms_at

SAMPLERS = {"naive": naive_sample, "cached": cached_sample}

__all__ = ["SAMPLERS", "as_seed", "cached_sample", "naive_sample", "row_seeds", "step_uniforms", "step_uniforms_at"]
