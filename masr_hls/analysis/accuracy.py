"""Cross-checks of a converted model, in two parts (docs/accuracy.md).

Semantics: the numpy reference run with every type widened (20+ fractional
bits, 2**16-entry tables, and integer parts taken from the Keras model's own
per-layer ranges on the data checked, with margin) must agree with Keras to
``SEMANTIC_BOUND`` of the output scale.  This is the only guard against a front
end or reference bug (the bit-exact check shares the front end), and it does not
loosen with coarser deployed types: it does not depend on them.  Should a
widened type still saturate, its integer part grows and the run is repeated; a
range the widened run cannot reach is reported as such, never as a difference
in function.

Quantisation: the C simulation must equal the deployed reference bit for bit;
the error that the deployed types add (against the widened run and against
Keras) is reported as figures, not judged against a bound, and every deployed
type that saturates is named with its layer, role and the largest value it met.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from masr_hls.backend.designs import BidirectionalDesign, DenseDesign, RecurrentDesign
from masr_hls.batches import all_frames, by_length, is_utterances, run_by_length
from masr_hls.numerics.fixed_point import FixedType, recording_overflow

SEMANTIC_BOUND = 1e-3  # of the output scale: max |Keras output|, at least 1
# The widened types below hold values up to 2**9; a layer whose Keras values (or inputs) reach further gets
# integer bits for its largest value times 2**RANGE_MARGIN_BITS, the fractional bits kept (wider types run on the
# reference's exact wide-integer path).
RANGE_MARGIN_BITS = 2
WIDENING_ROUNDS = 4  # widened runs at most, each adding integer bits where the previous one saturated
DATA_ROLES = ("state", "cand", "cell", "output", "table")  # widened by the layer's range; accum with them
WEIGHT_ROLES = {"kernel": "weight", "recurrent_kernel": "recurrent_weight", "bias": "bias"}  # Keras variable -> role
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
_WIDENED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> {integer bits: widened twin}


def integer_bits(largest: float) -> int:
    """Integer bits, sign included, of a signed type that holds +-largest."""
    return int(np.ceil(np.log2(largest))) + 1 if largest > 1 else 1


def _widen(text: str, integer: int) -> str:
    """A widened type with ``integer`` integer bits (if more than it has) and its fractional bits kept."""
    t = FixedType.parse(text)
    grow = max(0, integer - t.integer)
    return FixedType(t.width + grow, t.integer + grow, t.signed, t.rounding, t.overflow).cpp()


def widened_config(max_frames: int, integer: dict[str, int] | None = None) -> dict:
    """The configuration of the widened run: every precision role and table wide; engine settings do not matter.

    ``integer``: integer bits a layer's data roles need (the key ``input``: the model input's; ``<layer>/<role>``:
    a weight role's); the accumulator gets as many more as the defaults give it over the state, and as the
    weights grow.
    """
    integer = integer or {}
    precision = dict(WIDE_PRECISION, default=WIDE_PRECISION["state"])
    precision["input"] = _widen(precision["input"], integer.get("input", 0))
    state = FixedType.parse(WIDE_PRECISION["state"]).integer
    extra_accum = FixedType.parse(WIDE_PRECISION["accum"]).integer - state
    layers = {}
    for name in {key.split("/")[0] for key in integer if key != "input"}:
        bits = integer.get(name, 0)
        weights = {role: _widen(WIDE_PRECISION[role], integer.get(f"{name}/{role}", 0)) for role in WEIGHT_ROLES.values()}
        weight_growth = max(FixedType.parse(t).integer - FixedType.parse(WIDE_PRECISION[r]).integer for r, t in weights.items())
        own = {role: _widen(WIDE_PRECISION[role], bits) for role in DATA_ROLES}
        own["accum"] = _widen(WIDE_PRECISION["accum"], max(bits, state) + extra_accum + weight_growth)
        layers[name] = {"Precision": dict(own, **weights)}
    return {"Model": dict(WIDE_TABLES, Precision=precision, MaxFrames=max_frames), "LayerName": layers}


def keras_weights(model) -> dict[tuple[str, str], np.ndarray]:
    """(layer, role) -> every Keras weight of that role in the converted layer (both halves of a Bidirectional)."""
    found = {}
    names = {k.name for k in model.keras_model.layers}
    for layer in model.layers:
        if layer.name not in names:
            continue
        for variable in model.keras_model.get_layer(layer.name).weights:
            role = WEIGHT_ROLES.get(variable.path.rsplit("/", 1)[-1])
            if role is not None:
                values = np.abs(np.asarray(variable.numpy(), np.float64)).ravel()
                found[layer.name, role] = np.concatenate([found.get((layer.name, role), values[:0]), values])
    return found


def keras_ranges(model, x) -> dict[str, float]:
    """The largest |value| each converted layer's Keras counterpart outputs on ``x`` (the key ``input``: of ``x``)."""
    import keras

    keras_model = model.keras_model
    names = [layer.name for layer in model.layers if layer.name in {k.name for k in keras_model.layers}]
    probe = keras.Model(keras_model.inputs[0], [keras_model.get_layer(name).output for name in names])  # one input (check_model)
    ranges = dict.fromkeys(["input", *names], 0.0)
    for batch in keras_batches(model, x):
        outputs = keras_run(probe, batch, is_utterances(x))
        outputs = outputs if isinstance(outputs, list) else [outputs]
        for name, values in (("input", batch), *zip(names, outputs)):
            ranges[name] = max(ranges[name], float(np.max(np.abs(values))) if np.size(values) else 0.0)
    return ranges


def keras_batches(model, x) -> list[np.ndarray]:
    """``x`` as the float32 batches Keras runs: the batch itself, or the utterances of each length together."""
    if is_utterances(x):
        utterances = [np.asarray(u, np.float32) for u in x]
        return [np.stack([utterances[i] for i in indices]) for indices in by_length(utterances).values()]
    return [np.asarray(x, np.float32).reshape(model.quantize_input(x).shape)]  # one (frames, features) sample: a batch


def range_bits(model, ranges: dict[str, float]) -> dict[str, int]:
    """Integer bits for each layer (its input's range and its own) and its weights, with the margin."""
    bits, previous = {"input": integer_bits(ranges["input"]) + RANGE_MARGIN_BITS}, ranges["input"]
    for layer in model.layers:
        largest = max(previous, ranges.get(layer.name, previous))
        bits[layer.name] = integer_bits(largest) + RANGE_MARGIN_BITS
        previous = ranges.get(layer.name, previous)
    for (name, role), values in keras_weights(model).items():
        bits[f"{name}/{role}"] = integer_bits(float(values.max(initial=0.0))) + 1
    return bits


def weight_overflows(model) -> list[str]:
    """Deployed weight types that cannot hold the Keras weights (saturated at conversion), as :func:`overflows`."""
    lines = []
    for (name, role), values in keras_weights(model).items():
        layer = next(layer for layer in model.layers if layer.name == name)
        config = getattr(layer, "cell", None) or getattr(layer, "head", None) or layer.fwd
        t = getattr(config, f"{role}_t")
        outside = values[values > max(t.max_value, -t.min_value)]
        if outside.size:
            lines.append(
                f"layer {name!r} {role}: {outside.size} Keras value{'s' if outside.size != 1 else ''} up to "
                f"{outside.max():.4g} ({t.cpp()} holds {t.min_value:.4g}..{t.max_value:.4g})"
            )
    return lines


def widened(model, integer: dict[str, int] | None = None):
    """The same Keras model converted with the widened configuration (nothing is written)."""
    from masr_hls.backend.convert import convert_from_keras_model

    if model.keras_model is None:
        raise ValueError("the widened reference needs the Keras model the hardware was converted from")
    twins = _WIDENED.setdefault(model, {})
    key = tuple(sorted((integer or {}).items()))
    if key not in twins:
        graph = convert_from_keras_model(
            model.keras_model,
            hls_config=widened_config(model.max_frames, integer),
            output_dir=str(model.output_dir / "widened"),
            project_name=f"{model.project_name}_wide",
        )
        twins[key] = type(model).of(graph)
    return twins[key]


def role_types(model, layer_name: str) -> dict[str, object]:
    """role -> type of a converted layer (``input``: the model input), to name what saturated."""
    if layer_name == "input":
        return {"input": model.input_t}
    layer = next(layer for layer in model.layers if layer.name == layer_name)
    if isinstance(layer, DenseDesign):
        roles = {"output": layer.head.out_t, "table": layer.head.table_t}
        if layer.softmax is not None:
            roles.update({"softmax": layer.softmax.out_t, "softmax exp": layer.softmax.exp_t, "softmax 1/sum": layer.softmax.inv_t})
        return roles
    cells = [layer.cell] if isinstance(layer, RecurrentDesign) else [layer.fwd, layer.bwd]
    roles = {}
    for cell in cells:
        roles.update({"state": cell.state_t, "gate": cell.gate_t, "cand": cell.cand_t, "cell": cell.cell_t})
    if isinstance(layer, BidirectionalDesign):
        roles["output"] = layer.merge.out_t
    return roles


def overflows(model, log) -> list[str]:
    """One line per (layer, type) that saturated: the roles of that type, how many values, the largest."""
    lines = []
    for (scope, t), found in sorted(log.found.items(), key=lambda item: -item[1].largest):
        roles = [role for role, rt in role_types(model, scope).items() if rt == t] if scope else []
        lines.append(
            f"{'layer ' + repr(scope) if scope != 'input' else 'the input'} {'/'.join(roles) or t.cpp()}: "
            f"{found.count} value{'s' if found.count != 1 else ''} up to {found.largest:.4g} "
            f"({t.cpp()} holds {t.min_value:.4g}..{t.max_value:.4g})"
        )
    return lines


def _is_classifier(model) -> bool:
    last = model.layers[-1]
    return isinstance(last, DenseDesign) and last.softmax is not None


@dataclass
class CrossCheck:
    samples: int
    csim_mismatches: int  # output values differing from the numpy reference (must be 0)
    figure_mismatches: int  # per-layer cycle / pair figures differing from the reference (must be 0)
    semantic_error: float | None  # max |widened reference - Keras|
    semantic_bound: float | None  # SEMANTIC_BOUND x output scale
    wide_overflow: list[str] | None  # what still saturated in the last widened run (then semantics are not judged)
    deployed_overflow: list[str]  # deployed types that saturated on these inputs
    quant_vs_wide: tuple[float, float] | None  # (max, mean) |deployed - widened|
    quant_vs_keras: tuple[float, float] | None  # (max, mean) |deployed - Keras|
    output_range: float | None  # max - min of the Keras outputs
    argmax_agreement: float | None  # classifiers: share of frames whose top class matches Keras

    @property
    def bit_exact(self) -> bool:
        return self.csim_mismatches == 0 and self.figure_mismatches == 0

    @property
    def semantics_ok(self) -> bool:
        return self.semantic_error is None or (not self.wide_overflow and self.semantic_error <= self.semantic_bound)

    @property
    def ok(self) -> bool:
        return self.bit_exact and self.semantics_ok

    def summary(self) -> str:
        exact = "bit-exact" if self.bit_exact else f"{self.csim_mismatches} values and {self.figure_mismatches} figures differ"
        text = f"{self.samples} sample{'s' if self.samples != 1 else ''}: csim vs numpy reference {exact}"
        if self.semantic_error is None:
            return text + "; Keras not compared"
        if self.wide_overflow:
            verdict = "NOT JUDGED: the Keras model's values exceed even the widened types (" + "; ".join(self.wide_overflow) + ")"
        else:
            verdict = "agrees" if self.semantics_ok else "DIFFERS: the conversion does not compute the Keras model"
        text += f"; widened reference vs Keras max {self.semantic_error:.3g} (bound {self.semantic_bound:.3g}): {verdict}"
        rel = f" ({self.quant_vs_keras[0] / self.output_range:.2%} of the output range)" if self.output_range else ""
        text += (
            f"; quantisation error max {self.quant_vs_keras[0]:.3g} mean {self.quant_vs_keras[1]:.3g} vs Keras{rel}, "
            f"max {self.quant_vs_wide[0]:.3g} vs widened"
        )
        if self.argmax_agreement is not None:
            text += f"; top class agrees with Keras on {self.argmax_agreement:.1%}"
        if self.deployed_overflow:
            text += "; deployed types saturate: " + "; ".join(self.deployed_overflow)
        return text


def _max_mean(a, b) -> tuple[float, float]:
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    return (float(d.max()), float(d.mean())) if d.size else (0.0, 0.0)


def keras_outputs(model, x, keras_model) -> np.ndarray | list[np.ndarray]:
    """Keras' outputs on ``x``: an array for a batch, one array per utterance for a list of them."""
    if is_utterances(x):
        return run_by_length(lambda batch: np.asarray(keras_run(keras_model, batch, True), np.float64), [np.asarray(u, np.float32) for u in x])
    return np.asarray(keras_run(keras_model, keras_batches(model, x)[0], False), np.float64)


def keras_run(keras_model, batch: np.ndarray, varying_lengths: bool):
    """Keras' outputs on one batch.  Batches of several lengths are called directly: Keras 3's ``predict`` keeps
    the first length it traced for TimeDistributed and returns one frame for a later, longer batch."""
    if varying_lengths:
        outputs = keras_model(batch, training=False)
        return [np.asarray(o) for o in outputs] if isinstance(outputs, (list, tuple)) else np.asarray(outputs)
    return keras_model.predict(batch, verbose=0)


def semantic_error(model, x, keras_model, expected=None) -> tuple[float, float, np.ndarray, list[str]]:
    """(max |widened reference - Keras|, the bound, the widened outputs, what saturated in the widened run):
    part one, independent of deployed types."""
    expected = keras_outputs(model, x, keras_model) if expected is None else expected
    integer = range_bits(model, keras_ranges(model, x))
    for _ in range(WIDENING_ROUNDS):
        twin = widened(model, integer)
        with recording_overflow() as log:
            wide = twin.reference(x).y
        if not log.found:
            break
        for (scope, t), found in log.found.items():  # grow the layer that saturated past what it met
            integer[scope] = max(integer.get(scope, 0), integer_bits(found.largest) + RANGE_MARGIN_BITS, t.integer + 4)
    expected, wide = all_frames(expected), all_frames(wide)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    return _max_mean(wide, expected)[0], SEMANTIC_BOUND * scale, wide, overflows(twin, log) + weight_overflows(twin)


def cross_check(model, x, keras_model=None) -> CrossCheck:
    """Both parts on ``x``; ``keras_model`` (default: none) is what the hardware must compute."""
    sim = model.csim(x)
    with recording_overflow() as log:
        ref = model.reference(x)
    mismatches = int(np.count_nonzero(all_frames(sim.y_raw) != all_frames(ref.y_raw)))
    figures = sum(a.block() != b.block() for sample_a, sample_b in zip(sim.layers, ref.layers) for a, b in zip(sample_a, sample_b))
    saturated = overflows(model, log) + (weight_overflows(model) if model.keras_model is not None else [])
    check = CrossCheck(len(sim.y), mismatches, int(figures), None, None, None, saturated, None, None, None, None)
    if keras_model is None:
        return check
    expected = keras_outputs(model, x, keras_model)
    check.semantic_error, check.semantic_bound, wide, check.wide_overflow = semantic_error(model, x, keras_model, expected)
    y, expected = all_frames(sim.y), all_frames(expected)  # utterances: all their frames, one after another
    check.quant_vs_wide, check.quant_vs_keras = _max_mean(y, wide), _max_mean(y, expected)
    check.output_range = float(np.ptp(expected)) if expected.size else 0.0
    if _is_classifier(model):
        check.argmax_agreement = float(np.mean(np.argmax(y, -1) == np.argmax(expected, -1)))
    return check


def layer_summary(model) -> list[dict]:
    rows = []
    for layer in model.layers:
        if isinstance(layer, DenseDesign):
            w = layer.weights.w_raw
            rows.append(
                dict(name=layer.name, kind="dense", shape=f"{layer.head.n_in}->{layer.n_out}", weight_density=float(np.count_nonzero(w) / w.size))
            )
            continue
        cells = [(layer.cell, layer.weights)] if isinstance(layer, RecurrentDesign) else [(layer.fwd, layer.wf), (layer.bwd, layer.wb)]
        nnz = sum(int(np.count_nonzero(w.kernel)) + int(np.count_nonzero(w.recurrent)) for _, w in cells)
        size = sum(w.kernel.size + w.recurrent.size for _, w in cells)
        rows.append(dict(name=layer.name, kind=layer.kind, shape=f"{cells[0][0].n_in}->{layer.n_out}", weight_density=nnz / size))
    return rows
