"""hls4ml templates for MASR's layers: each emits its CONFIG_T structs, its ROM weights and its call.

The kernels live in real headers (``templates/masr``); Python only fills
parameters.  ``config_cpp`` and ``function_cpp`` are hls4ml's attribute names;
``weights_cpp`` holds the layer's ROM initialisers.  The C simulation's variant
of the project (writer.project_files) renders the same layers through
``layer_call`` and the hardware layers directly.
"""

from __future__ import annotations

from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate, Template

from masr_hls.backend.cpp_render import cpp_comment
from masr_hls.backend.layers import MasrBiRecurrent, MasrDense, MasrLayer, MasrRecurrent

MASR_CLASSES = (MasrRecurrent, MasrBiRecurrent, MasrDense)


def c_string(text: str) -> str:
    """``text`` as a C string literal (octal escapes for anything but printable ASCII)."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\?' else f"\\{b:03o}" for b in str(text).encode()) + '"'


def c_name(node) -> str:
    """The C++ prefix of a layer's structs and ROMs: its position in the chain, so names never clash."""
    return f"layer{node.get_attr('masr_position')}"


class MasrTemplateMixin:
    def match(self, node):
        return isinstance(node, MasrLayer) and node.get_attr("design") is not None


class MasrConfigTemplate(MasrTemplateMixin, LayerConfigTemplate):
    def __init__(self):
        super().__init__(MASR_CLASSES)

    def format(self, node):
        return node.design.cpp_config(c_name(node))


class MasrWeightsTemplate(MasrTemplateMixin, Template):
    def __init__(self):
        super().__init__("masr_weights_template", MASR_CLASSES, "weights_cpp")

    def format(self, node):
        return "".join(rom.definition() for rom in node.design.cpp_weights(c_name(node)))


class MasrFunctionTemplate(MasrTemplateMixin, FunctionCallTemplate):
    def __init__(self):
        super().__init__(MASR_CLASSES, include_header=("masr/model_layers.h",))

    def format(self, node):
        return layer_call(node)


def layer_call(node, named: bool = True) -> str:
    """The layer's call in the top function, headed by a comment; ``named`` puts the layer's name in it (the C
    simulation's variant leaves names out, so that models of one shape share its library; a traced layer keeps
    its name)."""
    position, prefix = node.get_attr("masr_position"), c_name(node)
    x = "x" if position == 0 else f"layer{position - 1}_out"
    y = "y" if node.get_attr("masr_last") else f"{prefix}_out"
    label = f"{prefix}: {cpp_comment(node.name)}" if named else prefix
    call = node.design.cpp_call(prefix, x, y, f"layer_figures({position})")
    trace = f"\n    MASR_TRACE_LAYER({position}, {c_string(node.name)}, {y}, frames);" if node.get_attr("trace", False) else ""
    return f"    // {label}\n    frames = {call};{trace}"


TEMPLATES = (MasrConfigTemplate, MasrWeightsTemplate, MasrFunctionTemplate)
