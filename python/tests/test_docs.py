"""The Python examples in docs/python.md run and their assertions hold."""

import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"


def snippets():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_doc_exists_and_has_examples():
    assert len(snippets()) >= 2


def test_examples_run():
    # The snippets build on each other (the second uses the first's config and inputs).
    scope = {}
    for code in snippets():
        exec(compile(code, str(DOC), "exec"), scope)  # noqa: S102
    agg = scope["agg"]
    assert 7 not in agg.included and len(agg.included) == 19
    sim = scope["sim"]
    assert 3 not in sim.aggregate.included and 5 not in sim.aggregate.included
