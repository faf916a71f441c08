"""The examples in docstrings and in README.md run, so they cannot rot."""

import doctest
import importlib
import pathlib
import re

import numpy as np
import pytest
import tensorflow as tf

import arzoo

REPO = pathlib.Path(__file__).resolve().parents[1]
DOCTEST_MODULES = sorted(
    ".".join(path.relative_to(REPO).with_suffix("").parts)
    for path in (REPO / "arzoo").rglob("*.py")
    if ">>> " in path.read_text()
)


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    globs = {**vars(module), "np": np, "tf": tf, "arzoo": arzoo, **vars(arzoo.models), **vars(arzoo.layers), **vars(arzoo.likelihoods)}
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, globs=dict(globs)) if t.examples]
    assert tests, f"{name} has '>>> ' but no doctest was found"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing example(s) in {name} (see the output above)"


def readme_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(readme_blocks(REPO / "README.md"))))
def test_readme_python_examples(index, monkeypatch):
    monkeypatch.chdir(REPO)
    exec(compile(readme_blocks(REPO / "README.md")[index], f"README.md block {index}", "exec"), {})
