"""Cross-checks of a converted model: C simulation against the numpy reference (bit for bit) and against Keras.

The Keras comparison cannot be exact: weights, inputs and every stored
quantity are rounded, and sigmoid/tanh come from tables.  The tolerance is
built from those error sources (docs/accuracy.md):

    per recurrent layer   e = G (eps_cand + eps_gate + lsb_state + q_w)
    per dense layer       e = eps_out + q_w
    q_w = (n_in + units) * lsb_weight / 2 * input scale     weight rounding, summed over a row
    tolerance = sum of e over layers, plus 2 output LSBs

where eps are the activations' own error bounds (half a table bin times the
steepest slope plus half an output LSB) and G = 4 allows each error to be
carried through the recurrence (GRU and LSTM states are convex blends, so an
error does not grow from step to step by more than the gates' slope allows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from masr_hls.backend.hardware import BidirectionalLayer, DenseLayer, RecurrentLayer

RECURRENCE_GAIN = 4.0


def _cell_error(cell, input_scale: float) -> float:
    gate = cell.rec_act().error_bound() if cell.kind != "simple_rnn" else 0.0
    q_w = (cell.n_in + cell.n_units) * max(cell.weight_t.lsb, cell.recurrent_weight_t.lsb) / 2 * input_scale
    return RECURRENCE_GAIN * (cell.act().error_bound() + gate + cell.state_t.lsb + q_w)


def keras_tolerance(model, input_scale: float = 1.0) -> float:
    total = 0.0
    scale = input_scale
    for layer in model.layers:
        if isinstance(layer, RecurrentLayer):
            total += _cell_error(layer.cell, scale)
        elif isinstance(layer, BidirectionalLayer):
            total += max(_cell_error(layer.fwd, scale), _cell_error(layer.bwd, scale)) * (2 if layer.merge.mode == "sum" else 1)
        elif isinstance(layer, DenseLayer):
            head = layer.head
            total += head.n_in * head.weight_t.lsb / 2 * scale + head.out_t.lsb
            if layer.softmax is not None:
                total += layer.softmax.out_t.lsb * 4
        scale = max(scale, 1.0)
    return total + 2 * model.output_t.lsb


@dataclass
class CrossCheck:
    samples: int
    csim_mismatches: int  # output values differing from the numpy reference (must be 0)
    figure_mismatches: int  # per-layer cycle / pair figures differing from the reference (must be 0)
    keras_max_error: float | None
    tolerance: float

    @property
    def bit_exact(self) -> bool:
        return self.csim_mismatches == 0 and self.figure_mismatches == 0

    @property
    def within_tolerance(self) -> bool:
        return self.keras_max_error is None or self.keras_max_error <= self.tolerance

    @property
    def ok(self) -> bool:
        return self.bit_exact and self.within_tolerance

    def summary(self) -> str:
        keras = (f"max |csim - Keras| = {self.keras_max_error:.4g} (tolerance {self.tolerance:.4g}): "
                 + ("within" if self.within_tolerance else "EXCEEDED")) if self.keras_max_error is not None else "Keras not compared"
        exact = "bit-exact" if self.bit_exact else f"{self.csim_mismatches} values and {self.figure_mismatches} figures differ"
        return f"{self.samples} samples: csim vs numpy reference {exact}; {keras}"


def cross_check(model, x, keras_model=None) -> CrossCheck:
    sim = model.csim(x)
    ref = model.reference(x)
    mismatches = int(np.count_nonzero(sim.y_raw != ref.y_raw))
    figures = sum(
        a.block() != b.block() for sample_a, sample_b in zip(sim.layers, ref.layers) for a, b in zip(sample_a, sample_b)
    )
    keras_error = None
    if keras_model is not None:
        expected = np.asarray(keras_model.predict(np.asarray(x, np.float32), verbose=0), np.float64)
        keras_error = float(np.max(np.abs(sim.y - expected))) if expected.size else 0.0
    return CrossCheck(len(sim.y), mismatches, int(figures), keras_error, model.tolerance())


def layer_summary(model) -> list[dict]:
    rows = []
    for layer in model.layers:
        if isinstance(layer, DenseLayer):
            w = layer.weights.w_raw
            rows.append(dict(name=layer.name, kind="dense", shape=f"{layer.head.n_in}->{layer.n_out}",
                             weight_density=float(np.count_nonzero(w) / w.size)))
            continue
        cells = [(layer.cell, layer.weights)] if isinstance(layer, RecurrentLayer) else [(layer.fwd, layer.wf), (layer.bwd, layer.wb)]
        nnz = sum(int(np.count_nonzero(w.kernel)) + int(np.count_nonzero(w.recurrent)) for _, w in cells)
        size = sum(w.kernel.size + w.recurrent.size for _, w in cells)
        rows.append(dict(name=layer.name, kind=layer.kind, shape=f"{cells[0][0].n_in}->{layer.n_out}", weight_density=nnz / size))
    return rows
