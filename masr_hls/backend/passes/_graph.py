"""Small graph helpers the passes share (hls4ml's ModelGraph is a chain here)."""

from __future__ import annotations


def next_nodes(model, node) -> list:
    return [n for n in model.graph.values() if node.outputs[0] in n.inputs]


def previous_node(node):
    return node.get_input_node() if node.inputs else None
