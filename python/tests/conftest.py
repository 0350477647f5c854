"""Fixtures of the package's tests: the blocks of blocks.mlir compiled once
for the CPU."""
import os
import tempfile

import pytest

# The tests keep their compiled modules apart from the user's cache.
os.environ["LOOM_CACHE_DIR"] = tempfile.mkdtemp(prefix="loom-test-cache-")

import loom  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def blocks(tmp_path_factory):
    out = tmp_path_factory.mktemp("modules") / "blocks.so"
    return loom.compile(os.path.join(HERE, "blocks.mlir"), target="cpu", output=str(out))
