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


# Markers that name a tool: a test so marked is skipped, with the reason, where the tool is missing
# (`bash setup.sh --test` installs them all, and CI runs it).
TOOLS = {
    "csim": (os.environ.get("CXX", "g++"), "C simulation tests need a C++ compiler (apt-get install g++)"),
    "verilator": ("verilator", "apt-get install verilator"),
    "yosys": ("yosys", "apt-get install yosys"),
    "tclsh": ("tclsh", "apt-get install tcl"),
    "espeak": ("espeak-ng", "the speech data set is spoken by it (apt-get install espeak-ng)"),
}


def pytest_collection_modifyitems(config, items):
    # Slow tests first: with pytest-xdist's worksteal (pyproject addopts) the run then ends on short tests
    # instead of one worker finishing a long one alone.
    items.sort(key=lambda item: "slow" not in item.keywords)
    for marker, (tool, hint) in TOOLS.items():
        if shutil.which(tool) is None:
            skip = pytest.mark.skip(reason=f"{tool} not found: {hint}")
            for item in items:
                if marker in item.keywords:
                    item.add_marker(skip)
