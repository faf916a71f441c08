"""What is the multiscale parallel PixelCNN's own (tests/models/test_contract.py
runs the shared contract on it in every variant): its step count, its
groups drawn coarse to fine, its base, the errors of its arguments, and
streaming its group steps through a server."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.models.multiscale_groups import MultiscaleGroups
from tests import test_case

FAMILY = "multiscale_pixelcnn"


def build(**overrides):
    return test_case.build_tiny(FAMILY, **overrides)


def test_a_sample_takes_logarithmically_many_steps():
    """Base sub-pixels, then 3 groups x channels per halving: 16x16 grey from
    a 2x2 base is 4 + 3 * 3 steps, where a raster model takes 256."""
    model = build(image_shape=[16, 16, 1], base_size=2)
    assert model.num_steps == 4 + 3 * 3
    rgb = build(image_shape=[16, 16, 3], base_size=2)
    assert rgb.num_steps == 4 * 3 + 3 * 3 * 3
    mixture = build(image_shape=[16, 16, 3], base_size=2, num_levels=8, likelihood="logistic_mixture",
                    num_mixtures=2)
    assert mixture.num_steps == 4 + 3 * 3  # whole pixels per step
    assert model.values_per_step == 8 * 8  # the largest group: a quarter of the image


def test_each_step_writes_its_group_and_the_base_is_the_coarsest_scale():
    """to_steps / from_steps round-trip every image, and step t holds exactly
    the sub-pixels MultiscaleGroups assigns to it (the base x[::4, ::4] first)."""
    model = build(image_shape=[7, 6, 2], base_size=2)
    x = test_case.random_images(model, 3, seed=1)
    np.testing.assert_array_equal(model.from_steps(model.to_steps(x)).numpy(), x)
    expected = MultiscaleGroups((7, 6, 2), 2).step_of_subpixel()
    np.testing.assert_array_equal(test_case.step_order(model), expected)
    assert model.base.image_shape == (2, 2, 2)
    base_steps = model.to_steps(x).numpy()[:, : model.layout.num_base_steps, 0]
    np.testing.assert_array_equal(base_steps, x[:, ::4, ::4].reshape(3, -1))


def test_the_base_part_of_log_prob_is_the_base_models():
    """log p(x) = log p_base(x at the base scale) + the groups' terms: the
    conditionals at the base pixels are the base model's own."""
    model = build(image_shape=[4, 4, 1], base_size=2)
    x = test_case.random_images(model, 2, seed=3)
    conditionals = model.conditional_log_probs(x).numpy()
    np.testing.assert_allclose(conditionals[:, ::2, ::2], model.base.conditional_log_probs(x[:, ::2, ::2]).numpy(),
                               rtol=1e-6, atol=1e-6)


def test_sampling_fills_coarse_to_fine():
    """Streaming the steps: after the base steps only the base pixels are set,
    after each scale's groups every pixel of that scale is."""
    model = build(image_shape=[8, 8, 1], base_size=2)
    model.jit_sampling = False
    seeds = tf.constant([[1, 2]], tf.int32)
    sample = model.sample(seeds=seeds).numpy()
    state = model.initial_state(1)
    previous = tf.zeros([1, model.values_per_step], tf.int32)
    uniforms = test_case.arzoo.sampling.step_uniforms(seeds, model.num_steps, model.uniforms_per_step)
    filled = []
    for t in range(model.num_steps):
        params, state = model.step(previous, state)
        previous = model.draw_step(params, uniforms[:, t], tf.ones([1]))
        filled.append(model.write_step(state["canvas"], state["position"] - 1, previous).numpy()[0, ..., 0])
    np.testing.assert_array_equal(filled[-1], sample[0, ..., 0])
    base_done = filled[model.layout.num_base_steps - 1]
    assert np.array_equal(base_done[::4, ::4], sample[0, ::4, ::4, 0])
    mask = np.zeros((8, 8), bool)
    mask[::4, ::4] = True
    assert not base_done[~mask].any()
    after_scale_1 = filled[model.layout.num_base_steps + 2]  # the three groups of the 4x4 scale
    np.testing.assert_array_equal(after_scale_1[::2, ::2], sample[0, ::2, ::2, 0])


@pytest.mark.parametrize("overrides,message", [
    (dict(image_shape=[4, 4, 1], base_size=4), "no larger than base_size 4"),
    (dict(base_size=0), "base_size"),
    (dict(base={"family": "wavenet"}), "base.family='wavenet' is not an image family"),
    (dict(base={"family": "pixel_vae"}), "base.family='pixel_vae' is not an image family"),
    (dict(base={"family": "multiscale_pixelcnn"}), "is not an image family"),
    (dict(base={"num_filters": 4}), "base must be a mapping with a 'family' key"),
    (dict(base="gated_pixelcnn"), "base must be a mapping"),
    (dict(base={"family": "gated_pixelcnn", "image_shape": [2, 2, 1]}), "base sets image_shape"),
    (dict(base={"family": "gated_pixelcnn", "num_filterz": 4}), "Unknown key base.num_filterz"),
    (dict(base={"family": "gated_pixelcnn", "kernel_size": 4}), r"base \(gated_pixelcnn at \[1, 1, 1\]\).*kernel_size"),
    (dict(base={"family": "nade"}, likelihood="logistic_mixture", num_levels=8),
     r"base \(nade .*likelihood"),
    (dict(kernel_size=2), "kernel_size must be odd"),
    (dict(num_blocks=-1), "num_blocks"),
])
def test_bad_arguments_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        build(**overrides)


def test_any_image_family_can_be_the_base():
    """A PixelCNN++ base (channel-coupled head, whole pixels per step) and a
    NADE base give normalised densities."""
    for base, extra in (({"family": "pixelcnn_pp", "num_filters": 4, "num_resnet": 1, "num_hierarchies": 1},
                         dict(likelihood="logistic_mixture", num_mixtures=2)),
                        ({"family": "nade", "num_hidden": 4}, dict(num_levels=2, likelihood="bernoulli"))):
        model = build(image_shape=[2, 2, 1], num_levels=extra.pop("num_levels", 3), base=base, **extra)
        test_case.check_normalization(model)


@pytest.mark.slow
def test_the_embedded_server_streams_group_steps(tmp_path):
    """Served class-conditional model: one `step` request per group, and the
    client assembles the streamed groups (from the export's step_subpixels)
    into the served `sample` and the Keras model's, for the same seeds."""
    from arzoo.serving import Client, Server, export_model
    from arzoo.serving.client import row_seeds

    model = build(image_shape=[5, 6, 1], num_classes=3, base_size=2)
    export_model(model, str(tmp_path), "multiscale", max_batch_size=4)
    server = Server.from_flags(model_name="multiscale", model_base_path=str(tmp_path / "multiscale")).start()
    try:
        seeds, labels = row_seeds(3, 3), np.array([2, 0, 1], np.int32)
        with Client(server.address, "multiscale", timeout=60.0) as client:
            assert client.sampling_layout() == ((5, 6, 1), model.num_steps, model.values_per_step)
            streamed = client.stream_images(seeds, 0.8, condition=labels)
            served = client.sample(seeds, 0.8, condition=labels)
        np.testing.assert_array_equal(streamed, served)
        np.testing.assert_array_equal(served, model.sample(seeds=seeds, temperature=0.8, condition=labels).numpy())
    finally:
        server.stop()


def test_coarse_to_fine_panels_show_each_scale():
    """Each panel is the sample at one scale's stride, pixels repeated; the
    last is the sample itself."""
    from arzoo.figures import coarse_to_fine_rows

    model = build(image_shape=[5, 6, 1], base_size=2)
    assert model.sampling_scales() == (4, 2, 1)
    images = test_case.random_images(model, 2, seed=5)
    panels = coarse_to_fine_rows(images, model.sampling_scales())
    assert panels.shape == (6, 5, 6, 1)
    np.testing.assert_array_equal(panels[2], images[0])
    np.testing.assert_array_equal(panels[3][::4, ::4], images[1][::4, ::4])
    assert np.all(panels[3][:4, :4] == images[1][0, 0])  # the base pixel fills its 4x4 block
    np.testing.assert_array_equal(panels[4][1::2, ::2], images[1][::2, ::2][: panels[4][1::2].shape[0]])


def test_arzoo_sample_writes_the_coarse_to_fine_figure(tmp_path, capsys):
    import json

    from PIL import Image

    import arzoo
    from arzoo.cli import main

    path = str(tmp_path / "multiscale.keras")
    model = build(image_shape=[8, 8, 1], base_size=2)
    model.save(path)
    out = tmp_path / "samples.png"
    assert main(["sample", path, "--n", "3", "--seed", "1", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    figure = tmp_path / "samples_coarse_to_fine.png"
    assert report["coarse_to_fine"] == str(figure)
    width, height = Image.open(figure).size
    # 3 rows (one per sample) of 3 panels (2x2 base, 4x4, 8x8), each 8 pixels scaled to 64, 1 pixel apart.
    assert (width, height) == (3 * 65 + 1, 3 * 65 + 1)
    samples = np.load(tmp_path / "samples.npy")
    np.testing.assert_array_equal(samples, model.sample(seeds=arzoo.sampling.row_seeds(1, 3)).numpy())
