"""Offline text corpora: fortunes parsed into entries, document-level splits
fixed by a seed and disjoint, ids with unknown characters counted."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.data.builders.text_corpus import folder_documents, fortunes_documents
from arzoo.data.text import encode_documents, load_text_dataset, text_windows


def test_fortunes_are_entries_between_percent_lines():
    documents = fortunes_documents()
    assert len(documents) > 5000
    assert not any(line == "%" for doc in documents[:500] for line in doc.splitlines())
    total = sum(map(len, documents))
    assert 1_500_000 < total < 4_000_000, f"{total} characters"


def test_splits_are_disjoint_and_fixed(tmp_path):
    data_dir = str(tmp_path)
    splits = {s: [e["text"] for e in load_text_dataset("fortunes", s, data_dir=data_dir).as_numpy_iterator()]
              for s in ("train", "validation", "test")}
    assert len(splits["test"]) == len(splits["validation"]) > 100
    assert len(splits["train"]) > 15 * len(splits["test"])
    # Split by document index: only fortunes that occur twice in the package
    # (a few, verbatim in two files) can be on both sides.
    shared = set(splits["train"]) & set(splits["test"])
    assert len(shared) < 0.03 * len(splits["test"]), len(shared)
    again = [e["text"] for e in load_text_dataset("fortunes", "test", data_dir=data_dir).as_numpy_iterator()]
    assert again == splits["test"]


def test_text_folder_and_unknown_characters(tmp_path):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "one.txt").write_text("abc", encoding="utf-8")
    (tmp_path / "texts" / "two.txt").write_text("ab\u00e9", encoding="utf-8")
    (tmp_path / "texts" / "three.txt").write_text("ba", encoding="utf-8")
    assert folder_documents(str(tmp_path / "texts")) == ["abc", "ba", "ab\u00e9"]
    documents = tf.data.Dataset.from_tensor_slices({"text": ["abc", "ab\u00e9"]})
    ids, unknown = encode_documents(documents, "abc\n")
    assert ids.tolist() == [1, 2, 3, 4, 1, 2, 0, 4]
    assert unknown == 1
    windows = list(text_windows(ids, 3).as_numpy_iterator())
    assert [w["text"].tolist() for w in windows] == [[1, 2, 3], [4, 1, 2]]
    with pytest.raises(ValueError, match="fewer than one window of 9"):
        text_windows(ids, 9)
    with pytest.raises(FileNotFoundError, match="No .txt files"):
        (tmp_path / "empty").mkdir()
        folder_documents(str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="needs text_folder"):
        load_text_dataset("text_folder", "train")


def test_python_stdlib_corpus(tmp_path):
    docs = [e["text"] for e in load_text_dataset("python_stdlib", "train", data_dir=str(tmp_path)).as_numpy_iterator()]
    assert len(docs) > 100 and any(b"def " in d for d in docs)
    assert np.mean([len(d) for d in docs]) > 1000


def test_vocabulary_from_the_training_split(tmp_path):
    import string

    import arzoo
    from arzoo.config import resolve_config
    from tests.test_case import REPO

    config = arzoo.load_config(REPO / "zoo_configs" / "text" / "char_rnn_fortunes.yaml", [f"data.data_dir={tmp_path}"])
    with pytest.raises(ValueError, match="from_training_split"):
        arzoo.build_model(config)  # read from the data, so only a configured run has it
    resolved = resolve_config(config)
    vocabulary = resolved["model"]["vocabulary"]
    assert vocabulary == "".join(sorted(set(vocabulary))) and "\n" in vocabulary and "\ufffd" not in vocabulary
    assert set(string.ascii_letters + string.digits + " .,") <= set(vocabulary)
    _, unknown = encode_documents(load_text_dataset("fortunes", "train", data_dir=str(tmp_path)), vocabulary)
    assert unknown == 0  # every training character has its own id
    assert arzoo.build_model(resolved).num_levels == len(vocabulary) + 1
    assert resolve_config(resolved) is resolved  # already resolved: nothing read again


@pytest.mark.slow
def test_train_writes_the_resolved_vocabulary_into_the_run(tmp_path):
    import yaml

    from arzoo.cli import main
    from tests.test_case import REPO

    (tmp_path / "texts").mkdir()
    for i in range(12):
        (tmp_path / "texts" / f"{i}.txt").write_text("abc " * 40 + "xyz"[i % 3], encoding="utf-8")
    run = tmp_path / "run"
    assert main([
        "train", str(REPO / "zoo_configs" / "tiny" / "char_rnn.yaml"), "--output", str(run), "--no-progress",
        "--set", "model.vocabulary=from_training_split", "--set", "data.dataset=text_folder",
        "--set", f"data.text_folder={tmp_path / 'texts'}", "--set", f"data.data_dir={tmp_path / 'data'}",
        "--set", "data.sequence_length=16", "--set", "training.steps=2",
    ]) == 0
    saved = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))["model"]["vocabulary"]
    train_text = "".join(e["text"].decode() for e in load_text_dataset(
        "text_folder", "train", data_dir=str(tmp_path / "data"), text_folder=str(tmp_path / "texts")).as_numpy_iterator())
    assert saved == "".join(sorted(set(train_text) | {"\n"}))
    import arzoo.runs

    assert arzoo.runs.open_run(str(run)).model.vocabulary == saved
