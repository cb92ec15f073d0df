"""Energy per MxV: access counts on a hand-worked case (with the operand's reads and the layers'
activation writes), the scaling rules on the bundled table, replacement tables and clear errors for bad ones."""

import math

import numpy as np
import pytest

from masr_hls.analysis.eie import EieConfig, EieMatrix, eie_stats
from masr_hls.analysis.energy import (
    EnergyTableError,
    LayerSequences,
    Operand,
    eie_layer_work,
    eie_work,
    energy,
    load_table,
    masr_layer_work,
    masr_work,
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
    assert [a.count for a in m.accesses] == [24, 24, 24, 24]  # state register, hf / hb, merge reads, layer output
    assert m.macs == 0 and m.count("activation") == 96
    assert energy(m, simple).pj == {"mac": 0, "weight": 0, "index": 0, "pointer": 0, "activation": 24 * 16 * 3 + 24 * 8, "accumulator": 0}
    e = eie_layer_work(seq, inferences=2)  # the state, then the output sequence
    assert [a.count for a in e.accesses] == [24, 24]
    assert energy(e, simple).total == 24 * 16 + 24 * 8
    last = LayerSequences(frames=3, max_frames=4, units=2, state_bits=16, out_bits=8, return_sequences=False)
    assert [a.count for a in masr_layer_work(last, 2).accesses] == [24, 24, 8, 8]  # the merge takes one frame
    assert [a.count for a in eie_layer_work(last, 2).accesses] == [24]  # the final states are the state


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
