"""Energy per MxV: access counts on a hand-worked case (with the operand's reads and the layers'
activation writes), the sequence stores' counted traffic, the scaling rules on the bundled table, replacement tables
and clear errors for bad ones."""

import math

import numpy as np
import pytest

from masr_hls.analysis.eie import EieConfig, EieMatrix, eie_stats
from masr_hls.analysis.energy import (
    EnergyTableError,
    LayerSequences,
    Operand,
    SequenceStore,
    StoreWords,
    eie_layer_work,
    eie_work,
    energy,
    load_table,
    masr_layer_work,
    masr_store_work,
    masr_work,
    store_energy_pj,
)
from masr_hls.reference.mxv import MxvConfig, mxv_stats

# y = W v with W = [[1, 0, 1], [0, 1, 0]] and v = [1, 1, 0]: non-zero pairs (0, 0) and (1, 1).
W = np.array([[1, 0, 1], [0, 1, 0]], bool)
V = np.array([1, 1, 0], bool)
LANES = np.zeros(2, np.int64)  # one lane of one MAC

# A replacement table where every figure is easy: add 1 pJ at 32 bits, multiply 4 pJ at 16 x 16 bits,
# SRAM 64 pJ per 64-bit read at one size only (so 1 pJ per bit for any size).
SIMPLE = """\
source: test table
integer_add_pj: {32: 1.0}
integer_mult_pj: {16: 4.0}
sram_read_64bit_pj: {1024: 64}
"""


@pytest.fixture
def simple(tmp_path):
    path = tmp_path / "simple.yaml"
    path.write_text(SIMPLE)
    return load_table(path)


def masr(mode, operand=None):
    cfg = MxvConfig(3, 2, "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<32,12>", mode=mode)
    return masr_work(cfg, mxv_stats(cfg, W, V, LANES), W, LANES, operand=operand)


def test_masr_counts_by_hand():
    # masr issues the 2 pairs: 2 weight reads, 2 activation reads; the front end reads each row's one
    # weight-mask word and the activation-mask word with it (2 + 2); each row is written once (2).
    m = masr("masr")
    assert m.macs == 2
    assert [m.count(c) for c in ("weight", "activation", "index", "accumulator", "pointer")] == [2, 2, 4, 2, 0]
    ws = masr("weight_sparse")  # every non-zero weight (3); weight masks only
    assert [ws.macs, ws.count("weight"), ws.count("index")] == [3, 3, 2]
    d = masr("dense")  # every element (6); no masks
    assert [d.macs, d.count("weight"), d.count("activation"), d.count("index")] == [6, 6, 6, 0]


def test_eie_counts_by_hand():
    # One PE: 2 non-zero activations broadcast; columns 0 and 1 hold one entry each: 2 entries,
    # 2 x 2 pointer reads, 3 source activations examined, 2 queue pushes + 2 pops, 2 accumulator updates.
    cfg = EieConfig(pes=1)
    m = EieMatrix.encode(W, cfg)
    e = eie_work(cfg, eie_stats(cfg, W, V, m), m)
    assert e.macs == 2
    assert [e.count(c) for c in ("weight", "index", "pointer", "activation", "accumulator")] == [2 + 2, 2, 4, 3 + 4, 4]


def test_energy_by_hand(simple):
    # MAC = 4 + 1 = 5 pJ; memories 1 pJ per bit.
    # masr: 2 MACs (10) + 2 x 16 weight bits (32) + 4 x 32 mask bits (128) + 2 x 16 activation bits (32)
    #       + 2 x 32 accumulator bits (64) = 266 pJ.
    e = energy(masr("masr"), simple)
    assert e.pj == {"mac": 10, "weight": 32, "index": 128, "pointer": 0, "activation": 32, "accumulator": 64}
    assert e.total == 266
    assert energy(masr("weight_sparse"), simple).total == 15 + 48 + 64 + 48 + 64
    assert energy(masr("dense"), simple).total == 30 + 96 + 0 + 96 + 64
    # eie: 10 (MACs) + weight 2 x (4 + 16) = 40 + index 2 x 4 = 8 + pointers 4 x 16 = 64
    #      + activation 3 x 16 + 4 x (16 + 2 column bits) = 120 + accumulator 4 x 32 = 128 -> 370 pJ.
    cfg = EieConfig(pes=1)
    m = EieMatrix.encode(W, cfg)
    eie = energy(eie_work(cfg, eie_stats(cfg, W, V, m), m), simple)
    assert eie.pj == {"mac": 10, "weight": 40, "index": 8, "pointer": 64, "activation": 120, "accumulator": 128}


# v is held in an array of 48 bytes (say a sequence of 8 frames of 3 values of 16 bits); it has 2 non-zeros.
OPERAND = Operand(array_bytes=48, nonzeros=2)


def test_masr_operand_by_hand(simple):
    # One call: the 3 values of v read from where they are held; masr's encoder writes the 2 non-zeros and the
    # 1 activation-mask word into the engine's copy.  Activation: 2 pair reads + 3 + 2; index: 4 + 1.
    m = masr("masr", OPERAND)
    assert [m.count(c) for c in ("activation", "index")] == [2 + 3 + 2, 4 + 1]
    e = energy(m, simple)
    assert (e.pj["activation"], e.pj["index"]) == ((2 + 3 + 2) * 16, (4 + 1) * 32)
    assert e.total == 266 + (3 + 2) * 16 + 32
    d = masr("dense", OPERAND)  # no encoder: the 3 values written as they are
    assert d.count("activation") == 6 + 3 + 3 and d.count("index") == 0
    # Held in a compact store, the operand is loaded from it (charged by the layer's counted words): no dense reads.
    compact = masr("masr", Operand(array_bytes=48, nonzeros=2, compact=True))
    assert [compact.count(c) for c in ("activation", "index")] == [2 + 2, 4 + 1]
    assert energy(compact, simple).total == 266 + 2 * 16 + 32


def test_eie_operand_by_hand(simple):
    # One call: 3 reads from where v is held and 3 writes into the PE's source register file, beside the
    # 3 LNZD reads and 4 queue accesses counted before.
    cfg = EieConfig(pes=1)
    m = EieMatrix.encode(W, cfg)
    e = eie_work(cfg, eie_stats(cfg, W, V, m), m, operand=OPERAND)
    assert e.count("activation") == 3 + 4 + 3 + 3
    assert energy(e, simple).pj["activation"] == 120 + 6 * 16


def test_eie_16bit_weights_by_hand(simple):
    # Without a codebook an entry's 16-bit weight is read from the matrix SRAM and nothing else: 2 x 16 bits.
    cfg = EieConfig(pes=1, weight_index_bits=16, codebook=False)
    m = EieMatrix.encode(W, cfg)
    e = eie_work(cfg, eie_stats(cfg, W, V, m), m)
    assert e.count("weight") == 2
    assert energy(e, simple).pj == {"mac": 10, "weight": 32, "index": 8, "pointer": 64, "activation": 120, "accumulator": 128}


def test_layer_writes_by_hand(simple):
    # 2 inferences of 3 frames, 2 units per direction, 16-bit states, 8-bit outputs: 2 x 3 x 2 x 2 = 24 state values.
    seq = LayerSequences(frames=3, max_frames=4, units=2, state_bits=16, out_bits=8, return_sequences=True)
    m = masr_layer_work(seq, inferences=2)
    assert [a.count for a in m.accesses] == [24, 24, 24]  # state register, hf / hb, merge reads (its writes: the store's)
    assert m.macs == 0 and m.count("activation") == 72
    assert energy(m, simple).pj == {"mac": 0, "weight": 0, "index": 0, "pointer": 0, "activation": 24 * 16 * 3, "accumulator": 0}
    apart = LayerSequences(frames=3, max_frames=4, units=2, state_bits=16, out_bits=8, state_sequences=False)
    assert [a.count for a in masr_layer_work(apart, 2).accesses] == [24]  # halves written straight into the store
    e = eie_layer_work(seq, inferences=2)  # the state, then the output sequence
    assert [a.count for a in e.accesses] == [24, 24]
    assert energy(e, simple).total == 24 * 16 + 24 * 8
    last = LayerSequences(frames=3, max_frames=4, units=2, state_bits=16, out_bits=8, return_sequences=False)
    assert [a.count for a in masr_layer_work(last, 2).accesses] == [24, 24, 8]  # the merge takes one frame
    assert [a.count for a in eie_layer_work(last, 2).accesses] == [24]  # the final states are the state


# A store of 4 frames of 40 values of 16 bits: 2 mask words a frame; 4 x (2 x 32 + 40 x 16) bits = 352 bytes.
STORE = SequenceStore(max_frames=4, n=40, value_bits=16)


def test_store_traffic_by_hand(simple):
    # The model's first layer, a Bidirectional one, on 2 frames with 4 and 6 non-zeros: it reads the dense port once
    # (2 x 40 values), writes the entry encoding (4 mask words + 10 values) and each direction reads it (8 + 20); it
    # writes 2 output frames of 8 values of 8 bits (1 mask word each) with 5 non-zeros into the next layer's store.
    out = SequenceStore(max_frames=4, n=8, value_bits=8)
    assert (STORE.mask_words, STORE.array_bytes, out.array_bytes) == (2, 352, 4 * (32 + 64) / 8)
    words = StoreWords(entry_written=14, seq_read=28, out_written=7, in_frames=2, out_frames=2, readers=2)
    m = masr_store_work(words, STORE, out, entry=True, stores_output=True)
    assert [(a.count, a.bits, a.array_bytes) for a in m.accesses] == [
        (80, 16, 4 * 40 * 2),  # input port reads, dense
        (4, 32, 352),  # entry writes: mask words, values
        (10, 16, 352),
        (8, 32, 352),  # reads by both directions
        (20, 16, 352),
        (2, 32, 48),  # output store writes
        (5, 8, 48),
    ]
    assert energy(m, simple).total == 80 * 16 + 4 * 32 + 10 * 16 + 8 * 32 + 20 * 16 + 2 * 32 + 5 * 8
    # A later layer that is the model's last: no port read, no entry; its 2 output frames leave dense (16 values).
    last = masr_store_work(StoreWords(0, 28, 0, 2, 2, 2), STORE, out, entry=False, stores_output=False)
    assert [(a.what, a.count) for a in last.accesses][-1] == ("output port writes (dense)", 16)
    assert energy(last, simple).total == 8 * 32 + 20 * 16 + 16 * 8
    # A split store (halves written apart) has mask words per half: 2 for halves of 20, 3 for halves of 33 and 7.
    assert SequenceStore(4, 40, 16, split=20).mask_words == 2 and SequenceStore(4, 40, 16, split=33).mask_words == 3


def test_one_more_nonzero_costs_one_value_access_per_read_and_write():
    # The bundled table: the store's traffic grows by exactly one value access per word counted.
    words = StoreWords(entry_written=14, seq_read=28, out_written=0, in_frames=2, out_frames=2, readers=2)
    more = StoreWords(entry_written=15, seq_read=30, out_written=0, in_frames=2, out_frames=2, readers=2)
    out = SequenceStore(max_frames=4, n=8, value_bits=8)
    base, grown = (energy(masr_store_work(w, STORE, out, True, False)).total for w in (words, more))
    assert grown - base == pytest.approx(3 * load_table().sram(16, STORE.array_bytes))


@pytest.mark.parametrize(
    "words, entry, stores_output, message",
    [
        (StoreWords(14, 28, 0, 2, 2, 2), False, False, "entry words"),
        (StoreWords(0, 28, 7, 2, 2, 2), False, False, "output store words"),
        (StoreWords(0, 3, 0, 2, 2, 2), False, False, "cannot be 4 frames"),  # fewer words than the frames' mask words
        (StoreWords(0, 200, 0, 2, 2, 2), False, False, "cannot be 4 frames"),  # more values than the frames hold
    ],
)
def test_store_words_that_cannot_be_are_refused(words, entry, stores_output, message):
    with pytest.raises(ValueError, match=message):
        masr_store_work(words, STORE, STORE, entry, stores_output)


def test_store_energy_of_a_model_follows_its_counted_words(tmp_path):
    """A converted model's store energy from the reference's counted words: one more non-zero in an input frame of a
    one-layer Bidirectional model costs exactly three value accesses of its input store (the entry write and the two
    directions' reads); its output leaves dense through the port, whatever the values."""
    import keras

    import masr_hls

    keras.utils.set_random_seed(0)
    inp = keras.Input((4, 6))
    model = keras.Model(inp, keras.layers.Bidirectional(keras.layers.GRU(3, activation="relu", return_sequences=True), name="bi")(inp))
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config={"Model": {"Lanes": 2}}, output_dir=tmp_path / "p"))
    x = np.zeros((1, 4, 6))
    x[0, :, :2] = 1.0
    more = x.copy()
    more[0, 1, 4] = 1.0
    (base,), (grown,) = (hw.reference(v).layers for v in (x, more))
    assert grown[0].seq_read - base[0].seq_read == 2 and grown[0].entry_written - base[0].entry_written == 1
    e_base, e_grown = (store_energy_pj(hw, [r], [4]) for r in (base, grown))
    layer = hw.layers[0]
    store = SequenceStore(hw.max_frames, 6, layer.fwd.in_t.width)
    assert e_grown - e_base == pytest.approx(3 * load_table().sram(layer.fwd.in_t.width, store.array_bytes))
    # Every access by hand: the port read once, the entry written, read twice, the output port written dense.
    words = StoreWords(base[0].entry_written, base[0].seq_read, 0, 4, 4, 2)
    out = SequenceStore(hw.max_frames, layer.n_out, layer.out_t.width)
    assert e_base == pytest.approx(energy(masr_store_work(words, store, out, True, False)).total) and e_base > 0


def test_bundled_table_and_scaling():
    t = load_table()
    assert "Horowitz" in t.source and "ISSCC 2014" in t.source
    assert t.add(8) == pytest.approx(0.03) and t.add(32) == pytest.approx(0.1)
    assert t.add(16) == pytest.approx(0.05)  # linear, from the 32-bit entry
    assert t.mult(8, 8) == pytest.approx(0.2) and t.mult(32, 32) == pytest.approx(3.1)
    assert t.mult(16, 16) == pytest.approx(3.1 / 4)  # quadratic, from the 32-bit entry
    assert t.mult(64, 64) == pytest.approx(3.1 * 4)  # beyond the table: up from its widest entry
    assert t.sram(64, 8192) == pytest.approx(10) and t.sram(64, 32768) == pytest.approx(20)
    assert t.sram(64, 1 << 20) == pytest.approx(100)
    assert t.sram(8, 8192) == pytest.approx(10 / 8)  # per bit
    assert t.sram(64, 16384) == pytest.approx(10 * math.sqrt(2))  # log-log halfway from 8 KB to 32 KB
    assert t.sram(64, 2048) == pytest.approx(5)  # below 8 KB: the 8-32 KB slope (sqrt) extended
    assert t.sram(64, 4 << 20) == pytest.approx(100 * 4 ** (math.log(5) / math.log(32)))


def test_replacement_table_changes_results(simple):
    default = energy(masr("masr"))
    assert energy(masr("masr"), simple).total == 266 != pytest.approx(default.total)
    assert energy(masr("masr")).total == pytest.approx(energy(masr("masr"), load_table()).total)


@pytest.mark.parametrize(
    "text, words",
    [
        ("integer_add_pj: {32: 1.0}\ninteger_mult_pj: {16: 4.0}\n", ["sram_read_64bit_pj", "missing"]),
        (SIMPLE.replace("{32: 1.0}", "{32: fast}"), ["integer_add_pj", "fast"]),
        (SIMPLE.replace("{16: 4.0}", "{16: -4.0}"), ["integer_mult_pj", "-4.0"]),
        (SIMPLE.replace("{1024: 64}", "64"), ["sram_read_64bit_pj", "mapping"]),
        ("- just\n- a list\n", ["mapping"]),
        ("integer_add_pj: {32: [1.0\n", ["cannot read"]),
    ],
)
def test_bad_table_is_named(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(EnergyTableError) as info:
        load_table(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(EnergyTableError, match="nowhere.yaml"):
        load_table(tmp_path / "nowhere.yaml")
