"""Cross-checks of a converted model, in two parts (docs/accuracy.md).

Semantics: the numpy reference run with every type widened (20+ fractional
bits, wide integer parts, 2**16-entry tables) must agree with Keras to
``SEMANTIC_BOUND`` of the output scale.  This is the only guard against a front
end or reference bug (the bit-exact check shares the front end), and it does not
loosen with coarser deployed types: it does not depend on them.

Quantisation: the C simulation must equal the deployed reference bit for bit;
the error that the deployed types add (against the widened run and against
Keras) is reported as figures, not judged against a bound.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from masr_hls.backend.hardware import DenseLayer, RecurrentLayer

SEMANTIC_BOUND = 1e-3  # of the output scale: max |Keras output|, at least 1
# Products of 30-bit values fit the reference's int64 arithmetic; 20 fractional bits put quantisation far below the bound.
WIDE_PRECISION = {
    "input": "ap_fixed<30,10,AP_RND,AP_SAT>",
    "weight": "ap_fixed<30,8,AP_RND,AP_SAT>",
    "recurrent_weight": "ap_fixed<30,8,AP_RND,AP_SAT>",
    "bias": "ap_fixed<30,10,AP_RND,AP_SAT>",
    "accum": "ap_fixed<60,18,AP_RND,AP_WRAP>",
    "state": "ap_fixed<30,10,AP_RND,AP_SAT>",
    "gate": "ap_ufixed<30,1,AP_RND,AP_SAT>",
    "cand": "ap_fixed<30,10,AP_RND,AP_SAT>",
    "cell": "ap_fixed<30,10,AP_RND,AP_SAT>",
    "output": "ap_fixed<30,10,AP_RND,AP_SAT>",
    "table": "ap_fixed<30,10,AP_RND,AP_SAT>",
    "softmax": "ap_ufixed<30,1,AP_RND,AP_SAT>",
}
WIDE_TABLES = {"TableSizeLog2": 16, "TableRangeLog2": 4}
_WIDENED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> its widened twin, converted once


def widened_config(max_frames: int) -> dict:
    """The configuration of the widened run: every precision role and table wide; engine settings do not matter."""
    return {"Model": dict(WIDE_TABLES, Precision=dict(WIDE_PRECISION, default=WIDE_PRECISION["state"]), MaxFrames=max_frames)}


def widened(model):
    """The same Keras model converted with the widened configuration (nothing is written)."""
    from masr_hls.backend.convert import convert_from_keras_model

    if model.keras_model is None:
        raise ValueError("the widened reference needs the Keras model the hardware was converted from")
    if model not in _WIDENED:
        graph = convert_from_keras_model(model.keras_model, hls_config=widened_config(model.max_frames),
                                         output_dir=str(model.output_dir / "widened"), project_name=f"{model.project_name}_wide")
        _WIDENED[model] = type(model).of(graph)
    return _WIDENED[model]


def _is_classifier(model) -> bool:
    last = model.layers[-1]
    return isinstance(last, DenseLayer) and last.softmax is not None


@dataclass
class CrossCheck:
    samples: int
    csim_mismatches: int  # output values differing from the numpy reference (must be 0)
    figure_mismatches: int  # per-layer cycle / pair figures differing from the reference (must be 0)
    semantic_error: float | None  # max |widened reference - Keras|
    semantic_bound: float | None  # SEMANTIC_BOUND x output scale
    quant_vs_wide: tuple[float, float] | None  # (max, mean) |deployed - widened|
    quant_vs_keras: tuple[float, float] | None  # (max, mean) |deployed - Keras|
    output_range: float | None  # max - min of the Keras outputs
    argmax_agreement: float | None  # classifiers: share of frames whose top class matches Keras

    @property
    def bit_exact(self) -> bool:
        return self.csim_mismatches == 0 and self.figure_mismatches == 0

    @property
    def semantics_ok(self) -> bool:
        return self.semantic_error is None or self.semantic_error <= self.semantic_bound

    @property
    def ok(self) -> bool:
        return self.bit_exact and self.semantics_ok

    def summary(self) -> str:
        exact = "bit-exact" if self.bit_exact else f"{self.csim_mismatches} values and {self.figure_mismatches} figures differ"
        text = f"{self.samples} sample{'s' if self.samples != 1 else ''}: csim vs numpy reference {exact}"
        if self.semantic_error is None:
            return text + "; Keras not compared"
        text += (f"; widened reference vs Keras max {self.semantic_error:.3g} (bound {self.semantic_bound:.3g}): "
                 + ("agrees" if self.semantics_ok else "DIFFERS: the conversion does not compute the Keras model"))
        rel = f" ({self.quant_vs_keras[0] / self.output_range:.2%} of the output range)" if self.output_range else ""
        text += (f"; quantisation error max {self.quant_vs_keras[0]:.3g} mean {self.quant_vs_keras[1]:.3g} vs Keras{rel}, "
                 f"max {self.quant_vs_wide[0]:.3g} vs widened")
        if self.argmax_agreement is not None:
            text += f"; top class agrees with Keras on {self.argmax_agreement:.1%}"
        return text


def _max_mean(a, b) -> tuple[float, float]:
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    return (float(d.max()), float(d.mean())) if d.size else (0.0, 0.0)


def keras_outputs(model, x, keras_model) -> np.ndarray:
    batch = model.quantize_input(x).shape  # one (frames, features) sample is a batch of one
    return np.asarray(keras_model.predict(np.asarray(x, np.float32).reshape(batch), verbose=0), np.float64)


def semantic_error(model, x, keras_model, expected=None) -> tuple[float, float, np.ndarray]:
    """(max |widened reference - Keras|, the bound, the widened outputs): part one, independent of deployed types."""
    expected = keras_outputs(model, x, keras_model) if expected is None else expected
    wide = widened(model).reference(x).y
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    return _max_mean(wide, expected)[0], SEMANTIC_BOUND * scale, wide


def cross_check(model, x, keras_model=None) -> CrossCheck:
    """Both parts on ``x``; ``keras_model`` (default: none) is what the hardware must compute."""
    sim = model.csim(x)
    ref = model.reference(x)
    mismatches = int(np.count_nonzero(sim.y_raw != ref.y_raw))
    figures = sum(
        a.block() != b.block() for sample_a, sample_b in zip(sim.layers, ref.layers) for a, b in zip(sample_a, sample_b)
    )
    check = CrossCheck(len(sim.y), mismatches, int(figures), None, None, None, None, None, None)
    if keras_model is None:
        return check
    expected = keras_outputs(model, x, keras_model)
    check.semantic_error, check.semantic_bound, wide = semantic_error(model, x, keras_model, expected)
    check.quant_vs_wide, check.quant_vs_keras = _max_mean(sim.y, wide), _max_mean(sim.y, expected)
    check.output_range = float(np.ptp(expected)) if expected.size else 0.0
    if _is_classifier(model):
        check.argmax_agreement = float(np.mean(np.argmax(sim.y, -1) == np.argmax(expected, -1)))
    return check


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
