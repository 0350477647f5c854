"""ctest's driver of the package's pytest suite: skips (exit 77, with the
reason) when this Python lacks pytest or numpy, otherwise runs pytest with
the arguments given and exits with its status (pytest's 5, no test ran, is
a failure here)."""
import sys

missing = []
for name in ("pytest", "numpy"):
    try:
        __import__(name)
    except ImportError:
        missing.append(name)
if missing:
    print(f"python-loom: skipped: {sys.executable} has no {' and no '.join(missing)} "
          f"(bash scripts/setup.sh makes a Python environment with them)")
    sys.exit(77)

import pytest  # noqa: E402

sys.exit(pytest.main(sys.argv[1:]))
