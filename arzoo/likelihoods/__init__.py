"""Likelihood heads: network outputs -> tfp distributions over pixel values."""

from arzoo.likelihoods.bernoulli import Bernoulli
from arzoo.likelihoods.categorical import Categorical
from arzoo.likelihoods.coupled_gaussian_mixture import CoupledMixtureOfGaussians
from arzoo.likelihoods.discretized_logistic_mixture import (
    DiscretizedLogisticMixture,
)
from arzoo.likelihoods.discretized_location_scale import DiscretizedLocationScale
from arzoo.likelihoods.head import LikelihoodHead
from arzoo.likelihoods.linear_pcm import linear_decode, linear_encode
from arzoo.likelihoods.mixture_of_gaussians import MixtureOfGaussians
from arzoo.likelihoods.mu_law import mu_law_decode, mu_law_encode

LIKELIHOODS = ("bernoulli", "categorical", "logistic_mixture")
# Audio adds ClariNet's single discretized Gaussian (16-bit PCM teachers).
AUDIO_LIKELIHOODS = LIKELIHOODS + ("gaussian",)


def make_head(likelihood, num_channels, num_levels, num_mixtures=5):
    """The head named `likelihood` for pixels of `num_channels` x `num_levels`."""
    if likelihood == "categorical":
        return Categorical(num_channels, num_levels)
    if likelihood == "bernoulli":
        if num_levels != 2:
            raise ValueError(
                f"likelihood='bernoulli' needs num_levels=2, got num_levels={num_levels}."
            )
        return Bernoulli(num_channels)
    if likelihood == "logistic_mixture":
        return DiscretizedLogisticMixture(num_channels, num_levels, num_mixtures)
    if likelihood == "gaussian":
        return DiscretizedLocationScale(num_channels, num_levels, "gaussian")
    raise ValueError(
        f"Unknown likelihood {likelihood!r}; allowed: {', '.join(AUDIO_LIKELIHOODS)}."
    )


__all__ = [
    "AUDIO_LIKELIHOODS",
    "Bernoulli",
    "CoupledMixtureOfGaussians",
    "Categorical",
    "DiscretizedLocationScale",
    "DiscretizedLogisticMixture",
    "LikelihoodHead",
    "LIKELIHOODS",
    "linear_decode",
    "linear_encode",
    "make_head",
    "MixtureOfGaussians",
    "mu_law_decode",
    "mu_law_encode",
]
