"""A run folder's config.yaml and model.keras: an edit of the model section
is applied where the family allows it without new weights (PixelVAE's
iw_samples) and refused, naming both values, everywhere else; it was
silently ignored by sample, eval and export."""

import os

import numpy as np
import pytest
import yaml

from arzoo.cli import main
from arzoo.config import build_model, load_config, resolve_config
from arzoo.runs import CONFIG_FILENAME, MODEL_FILENAME, open_run, save_run_config
from tests.test_case import REPO


def _run(tmp_path, family):
    config = resolve_config(load_config(str(REPO / "zoo_configs" / "tiny" / f"{family}.yaml")))
    model = build_model(config)
    folder = tmp_path / family
    folder.mkdir()
    model.save(folder / MODEL_FILENAME)
    save_run_config(str(folder), config)
    return folder, model


def _edit(folder, **model_keys):
    path = folder / CONFIG_FILENAME
    raw = yaml.safe_load(path.read_text())
    raw["model"].update(model_keys)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def test_an_unedited_run_opens_as_saved(tmp_path):
    folder, model = _run(tmp_path, "gated_pixelcnn")
    opened = open_run(str(folder)).model
    for a, b in zip(opened.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_architecture_edit_is_refused_naming_both_values(tmp_path):
    folder, model = _run(tmp_path, "gated_pixelcnn")
    _edit(folder, num_filters=model.num_filters + 3)
    with pytest.raises(ValueError) as info:
        open_run(str(folder))
    message = str(info.value)
    assert f"model.num_filters is {model.num_filters + 3} there but {model.num_filters} in model.keras" in message
    assert "config.yaml" in message and "restore" in message


def test_a_shorthand_edit_is_refused_through_what_it_means(tmp_path):
    folder, model = _run(tmp_path, "wavenet")
    _edit(folder, dilations=None, num_stacks=3, layers_per_stack=2)
    with pytest.raises(ValueError, match=r"model\.dilations is \[1, 2, 1, 2, 1, 2\] there but"):
        open_run(str(folder))


def test_pixel_vae_iw_samples_edit_is_applied_with_the_trained_weights(tmp_path, capsys):
    folder, model = _run(tmp_path, "pixel_vae")
    _edit(folder, iw_samples=model.iw_samples + 4)
    opened = open_run(str(folder)).model
    assert opened.iw_samples == model.iw_samples + 4
    assert f"model.iw_samples={model.iw_samples + 4}" in capsys.readouterr().err
    x = np.random.default_rng(0).integers(0, model.num_levels, (2,) + model.image_shape).astype(np.int32)
    np.testing.assert_allclose(opened.log_prob(x).numpy(),
                               model.importance_weighted_bound(x, model.iw_samples + 4).numpy(), rtol=1e-5)


def test_export_of_an_edited_run_is_one_error_line(tmp_path, capsys):
    folder, model = _run(tmp_path, "gated_pixelcnn")
    _edit(folder, num_layers=model.num_layers + 1)
    assert main(["export", str(folder), "--base", str(tmp_path / "exports")]) == 2
    err = capsys.readouterr().err
    assert "model.num_layers is" in err and "Traceback" not in err
    assert not (tmp_path / "exports").exists()


@pytest.fixture
def full_folder(tmp_path, monkeypatch):
    """A folder on a 300 KiB file system (a tmpfs, where this machine lets us
    mount one); elsewhere every write under it fails with ENOSPC, as a full
    disk does."""
    import errno
    import subprocess

    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(folder)],
                             capture_output=True).returncode == 0
    if not mounted:
        import tensorflow as tf

        real_save = tf.saved_model.save

        def save(obj, path, *args, **kwargs):
            if str(path).startswith(str(folder)):
                raise tf.errors.ResourceExhaustedError(None, None, f"{path}/variables; No space left on device")
            return real_save(obj, path, *args, **kwargs)

        monkeypatch.setattr(tf.saved_model, "save", save)
        import keras

        real_keras_save = keras.Model.save

        def keras_save(self, path, *args, **kwargs):
            if str(path).startswith(str(folder)):
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real_keras_save(self, path, *args, **kwargs)

        monkeypatch.setattr(keras.Model, "save", keras_save)
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_is_one_line_naming_the_folder(tmp_path, full_folder, capsys):
    folder, _ = _run(tmp_path, "gated_pixelcnn")
    assert main(["export", str(folder), "--base", str(full_folder / "exports")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = [l for l in err.splitlines() if "error:" in l]
    assert len(line) == 1 and f"the disk is full writing under {full_folder}" in line[0], err
    assert "free there" in line[0]
    assert [v for v in os.listdir(full_folder / "exports" / "gated_pixelcnn") if v.isdigit()] == []
