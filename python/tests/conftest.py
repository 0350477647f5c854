"""Fixtures of the package's tests: the blocks of blocks.mlir compiled once
for the CPU."""
import os

import pytest

import loom

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def blocks(tmp_path_factory):
    out = tmp_path_factory.mktemp("modules") / "blocks.so"
    return loom.compile(os.path.join(HERE, "blocks.mlir"), target="cpu", output=str(out))
