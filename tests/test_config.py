"""Configs: every shipped YAML validates and builds; bad keys are named."""

import pathlib

import pytest
import yaml

import arzoo
from arzoo.config import ConfigError, apply_overrides, validate_config

REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "zoo_configs").rglob("*.yaml"))


def test_every_family_has_a_tiny_config():
    tiny = {p.stem for p in (REPO / "zoo_configs" / "tiny").glob("*.yaml")}
    assert set(arzoo.list_models()) <= tiny


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_configs_validate(path):
    config = arzoo.load_config(path)
    assert config["model"]["family"] in arzoo.list_models()
    assert config["training"].steps > 0


@pytest.mark.parametrize("path", [p for p in CONFIGS if "tiny" in p.parts], ids=lambda p: p.stem)
def test_tiny_configs_build(path):
    model = arzoo.build_model(arzoo.load_config(path))
    assert model.count_params() > 0


def raw(**sections):
    base = {"model": {"family": "pixelcnn", "image_shape": [4, 4, 1], "num_levels": 2}}
    base.update(sections)
    return base


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError, match=r"Unknown key model.num_filterz for family 'pixelcnn'; allowed: .*num_filters"):
        validate_config({"model": {"family": "pixelcnn", "image_shape": [4, 4, 1], "num_filterz": 3}})
    with pytest.raises(ConfigError, match=r"Unknown key data.batchsize; allowed keys in 'data': .*batch_size"):
        validate_config(raw(data={"batchsize": 3}))
    with pytest.raises(ConfigError, match=r"Unknown key training.lr"):
        validate_config(raw(training={"lr": 3}))
    with pytest.raises(ConfigError, match=r"Unknown section 'optimizer'"):
        validate_config(raw(optimizer={}))
    with pytest.raises(ConfigError, match=r"model.family='pixelrnn' is not registered; allowed: .*gated_pixelcnn, .*pixelcnn"):
        validate_config({"model": {"family": "pixelrnn"}})


def test_bad_values_are_named():
    with pytest.raises(ConfigError, match=r"training.strategy='gpu'; allowed: default, mirrored, multi_worker, tpu"):
        validate_config(raw(training={"strategy": "gpu"}))
    with pytest.raises(ConfigError, match=r"data.batch_size must be a positive number, got 0"):
        validate_config(raw(data={"batch_size": 0}))
    with pytest.raises(ConfigError, match=r"training.ema_decay must lie in \(0, 1\), got 1.5"):
        validate_config(raw(training={"ema_decay": 1.5}))
    with pytest.raises(ValueError, match=r"num_levels must be an integer >= 1, got num_levels='many'"):
        arzoo.build_model(validate_config(raw(model={"family": "pixelcnn", "image_shape": [4, 4, 1], "num_levels": "many"})))


def test_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw()))
    config = arzoo.load_config(path, ["training.steps=7", "model.num_filters=4", "data.binarize=threshold"])
    assert config["training"].steps == 7
    assert config["model"]["num_filters"] == 4 and config["data"].binarize == "threshold"
    with pytest.raises(ConfigError, match=r"--set expects section.key=value, got 'steps'"):
        apply_overrides({}, ["steps"])
    with pytest.raises(ConfigError, match=r"--set key 'steps' must be section.key"):
        apply_overrides({}, ["steps=3"])
    with pytest.raises(ConfigError, match=r"c.yaml: Unknown key training.stepz"):
        arzoo.load_config(path, ["training.stepz=3"])


@pytest.mark.parametrize("decay", [0.0, 1.5, "fast", True])
def test_learning_rate_decay_must_be_a_factor_in_0_1(decay):
    with pytest.raises(ConfigError, match=r"training.learning_rate_decay must be (in \(0, 1\]|a number or null)"):
        validate_config(raw(training={"learning_rate_decay": decay}))


def test_learning_rate_decays_exponentially_per_step():
    from arzoo.training.loop import make_optimizer

    config = validate_config(raw(training={"learning_rate": 0.01, "learning_rate_decay": 0.5}))
    optimizer = make_optimizer(config["training"])
    rates = []
    for step in (0, 1, 3):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates == pytest.approx([0.01, 0.005, 0.00125])
