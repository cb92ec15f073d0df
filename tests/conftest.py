import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

# Compiled testbenches are cached by content; keep the cache per test run unless the user shares one.
settings.register_profile(
    "masr", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=False
)
settings.load_profile("masr")


def pytest_collection_modifyitems(config, items):
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        skip = pytest.mark.skip(reason="g++ not found: C simulation tests need a C++ compiler (apt-get install g++)")
        for item in items:
            if "csim" in item.keywords:
                item.add_marker(skip)
