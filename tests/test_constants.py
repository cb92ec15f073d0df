"""Hardware constants are defined once (masr_hls/constants.py); the C++ header and the SystemVerilog package
generated from them are checked in and must not go stale."""

import re

import pytest

from masr_hls import constants
from masr_hls.files import templates_dir


@pytest.mark.parametrize("path", sorted(constants.generated_files(templates_dir())), ids=lambda p: p.name)
def test_generated_file_is_current(path):
    expected = constants.generated_files(templates_dir())[path]
    assert path.read_text() == expected, f"{path} is stale: run masr_hls.constants.write_generated()"


def defines(text: str, name: str) -> bool:
    """Whether C++ or SystemVerilog ``text`` defines ``name`` (a constant, a parameter or an enumerator)."""
    return re.search(rf"((static const int|localparam int|parameter int)\s+|enum \w+ {{[^}}]*\b){name}\s*=", text) is not None


def test_no_template_defines_a_constant_of_its_own():
    """Every generated name is defined in the generated files only (a copy would drift)."""
    names = [name for name, _, _ in constants._int_constants()]
    enums = {**constants.ENUMS, **constants.SV_ONLY_ENUMS}
    names += [constants.enum_constant(e, n) for e, (_, members) in enums.items() for n in members]
    generated = set(constants.generated_files(templates_dir()))
    copies = [
        f"{path.name}: {name}"
        for path in sorted(templates_dir().rglob("*"))
        if path.suffix in (".h", ".sv", ".cpp", ".in") and path not in generated
        for name in names
        if defines(path.read_text(), name)
    ]
    assert copies == []
    assert defines("static const int MXV_MAC_DEPTH = 2;", "MXV_MAC_DEPTH")  # the check finds a copy
    assert defines("enum merge_mode { MERGE_CONCAT = 0, MERGE_SUM = 1 };", "MERGE_SUM")
    assert defines("  localparam int MASK_BITS = 32;", "MASK_BITS") and not defines("x = MASK_BITS + 1;", "MASK_BITS")


def test_enum_numbers_follow_the_python_order():
    assert constants.enum_value("merge_mode", "ave") == 3 and constants.enum_constant("merge_mode", "ave") == "MERGE_AVE"
    assert constants.enum_constant("rounding_mode", "AP_RND_CONV") == "ROUNDING_RND_CONV"
    assert [constants.enum_value("overflow_mode", m) for m in constants.OVERFLOW_MODES] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="not one of"):
        constants.enum_value("merge_mode", "max")
