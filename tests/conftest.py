import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

# Local runs keep exploring new examples ("masr"); CI (CI set, as `bash .ci/run` runs with CI=true)
# replays a fixed set ("ci"), so a red build is reproducible and never depends on the day's seed.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("masr", derandomize=False, **_COMMON)
settings.register_profile("ci", derandomize=True, max_examples=100, print_blob=True, **_COMMON)
HYPOTHESIS_PROFILE = "ci" if os.environ.get("CI") else "masr"
settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_report_header(config):
    return f"hypothesis profile: {HYPOTHESIS_PROFILE} (derandomize={settings.default.derandomize})"


def pytest_collection_modifyitems(config, items):
    # Slow tests first: with pytest-xdist's worksteal (pyproject addopts) the run then ends on short tests
    # instead of one worker finishing a long one alone.
    items.sort(key=lambda item: "slow" not in item.keywords)
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        skip = pytest.mark.skip(reason="g++ not found: C simulation tests need a C++ compiler (apt-get install g++)")
        for item in items:
            if "csim" in item.keywords:
                item.add_marker(skip)
