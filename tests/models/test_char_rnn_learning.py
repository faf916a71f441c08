"""Char-RNN learns English from the offline fortunes corpus through the
training loop: test bits per character clearly below the unigram baseline."""

import pytest

import arzoo
from arzoo.evaluation.run import evaluate
from arzoo.runs import Run
from arzoo.training import train


@pytest.mark.slow
def test_char_rnn_beats_the_unigram_baseline_on_fortunes(tmp_path):
    config = arzoo.load_config(
        "zoo_configs/text/char_rnn_fortunes.yaml",
        [
            "model.num_layers=1", "model.units=96", "data.batch_size=32", "training.steps=400",
            "training.sample_every=0", "training.checkpoint_every=400", f"data.data_dir={tmp_path / 'data'}",
            "data.max_test_examples=256",
        ],
    )
    result = train(config, str(tmp_path / "run"), progress=False)
    report = evaluate(Run(result.model, config, str(tmp_path / "run")))
    unigram = report["baselines"]["unigram"]["bits_per_character"]
    assert 4.0 < unigram < 5.0, unigram  # English letters, spaces and punctuation
    assert report["bits_per_character"] < unigram - 0.8, report  # measured: 3.47 vs 4.67
    assert report["headline"].endswith("bits/character")
