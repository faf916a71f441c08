"""The PixelCNN auto-encoder: what is specific to it beside the contract
suite (which runs it with random codes as its condition). Its own code is
the default condition of the likelihood, sampling needs a code, `decode` is
`sample` given codes, the export's `encode` and `decode` give the model's
numbers, and training on digits makes the code carry the image."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import arzoo
import arzoo.sampling
from arzoo.models.pixelcnn_autoencoder import PixelCNNAutoencoder
from tests import test_case


def tiny(**overrides):
    return test_case.build_tiny("pixelcnn_autoencoder", **overrides)


def test_own_code_is_the_default_condition_and_sampling_needs_a_code():
    model = tiny()
    x = test_case.random_images(model, 3)
    code = model.encode(x)["code"]
    assert code.shape == (3, 3)
    np.testing.assert_allclose(model.log_prob(x).numpy(), model.log_prob(x, code).numpy(), atol=1e-5)
    seeds = arzoo.sampling.row_seeds(4, 3)
    model.jit_sampling = False
    np.testing.assert_array_equal(model.decode(code, seeds).numpy(), model.sample(seeds=seeds, condition=code).numpy())
    with pytest.raises(ValueError, match=r"samples given a code: pass condition=codes \[B, 3\]"):
        model.sample(2)


def test_argument_errors_name_the_value():
    with pytest.raises(ValueError, match="condition is its code"):
        tiny(num_classes=3)
    with pytest.raises(ValueError, match="code_dim must be an integer >= 1, got code_dim=0"):
        tiny(code_dim=0)
    with pytest.raises(ValueError, match="encoder_filters must be a non-empty list"):
        tiny(encoder_filters=[])
    config = tiny(code_dim=5).get_config()
    assert config["code_dim"] == 5 and "condition_shape" not in config
    assert PixelCNNAutoencoder.from_config(config).latent_dim == 5


def test_export_encode_and_decode_give_the_model_numbers(tmp_path):
    from arzoo.serving import export_model

    model = tiny()
    model.jit_sampling = False
    loaded = tf.saved_model.load(export_model(model, str(tmp_path), "ae", max_batch_size=4))
    x = test_case.random_images(model, 3, seed=2)
    code = model.encode(x)["code"].numpy()
    np.testing.assert_allclose(loaded.signatures["encode"](x=tf.constant(x))["code"], code, atol=1e-5)
    seeds = arzoo.sampling.row_seeds(6, 3).numpy()
    temperature = np.ones(3, np.float32)
    decoded = loaded.signatures["decode"](code=tf.constant(code), seed=tf.constant(seeds),
                                          temperature=tf.constant(temperature))["samples"]
    np.testing.assert_array_equal(decoded, model.decode(code, seeds).numpy())
    # log_prob is exact given the code (the `condition` input).
    got = loaded.signatures["log_prob"](x=tf.constant(x), condition=tf.constant(code))["log_prob"]
    np.testing.assert_allclose(got, model.log_prob(x, code).numpy(), atol=1e-4)
    metadata = loaded.signatures["metadata"](seed=tf.constant(seeds))
    assert "likelihood_is_exact" not in metadata and int(metadata["latent_dim"][0]) == 3


def test_training_on_digits_makes_the_code_carry_the_image(tmp_path):
    """200 steps on 8x8 digits: each image is reconstructed better from its
    own code than from another image's."""
    from arzoo.training import train

    config = arzoo.load_config(test_case.REPO / "zoo_configs" / "tiny" / "pixelcnn_autoencoder.yaml", [
        "model.image_shape=[8, 8, 1]", "model.num_levels=17", "model.code_dim=8", "model.encoder_filters=[8, 16]",
        "training.steps=200", "training.log_every=100", "training.checkpoint_every=200",
        "training.learning_rate=0.005", "data.batch_size=32",
    ])
    keras.utils.set_random_seed(0)
    model = train(config, str(tmp_path / "run"), progress=False).model
    from arzoo.events.image import load_image_split

    data = config["data"]
    test = np.stack([e["image"] for e in load_image_split(data, data.test_split, 17).take(100).as_numpy_iterator()])
    own = model.encode(test)["code"].numpy()
    with_own = model.log_prob(test, own).numpy().mean()
    with_other = model.log_prob(test, np.roll(own, 1, axis=0)).numpy().mean()
    print(f"log p(x | e(x)) {with_own:.2f}, log p(x | e(x')) {with_other:.2f} nats")
    assert with_own > with_other + 1.0, (with_own, with_other)
