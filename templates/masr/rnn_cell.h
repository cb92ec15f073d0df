// MASR's recurrent cells (GRU, LSTM, SimpleRNN) built on the sparse engine.
//
// One step reads the frame x (already in compact form: loaded from the layer's
// compact input store, or encoded once on entry by the model's first layer), encodes the previous
// state h into compact form (ReLU cells make it sparse: that is MASR's
// activation sparsity) and runs the kernel and recurrent matrices on the
// sparse engine, then one elementwise pass applies the gates.  The arithmetic
// is specified in docs/arithmetic.md: every named quantity is quantised once,
// when stored in its type; everything between is exact ap_fixed arithmetic.
//
// A step is two chains that run at the same time (rnn_stage, a DATAFLOW
// region; docs/arithmetic.md, "Cycles of a cell and a layer"):
//   kernel chain     (kernel_chain) load the NEXT compact frame x_{t+1} into
//                    the kernel engine (one mask word per cycle, no
//                    encoding), the engine, the bias: xw_{t+1} = accum_t(W x_{t+1} + b),
//                    into the step's second xw buffer.  W x does not depend on
//                    the state, so it runs ahead by one frame.
//                    KX = mask words(n_in) + ENGINE_START_DEPTH + kernel engine
//   recurrent chain  (recurrent_chain) encode h_t, the recurrent engine, then
//                    one pipelined elementwise pass of ceil(units / lanes)
//                    groups of `lanes` units that reads xw_t:
//                    RH = encode(u) + ENGINE_START_DEPTH + recurrent engine
//                         + ceil(units / lanes) + GATE_PIPELINE_DEPTH
// A step takes max(RH_t, KX_{t+1}); the xw buffers swap between steps.
// GRU with reset_after=False adds to RH a second pass for r*h, its encoding
// and the U_h engine, because U_h needs r first.
#ifndef MASR_RNN_CELL_H
#define MASR_RNN_CELL_H

#include "ap_fixed.h"
#include "hls_stream.h"
#include "masr/activation.h"
#include "masr/activation_encoder.h"
#include "masr/constants.h"
#include "masr/sparse_mxv.h"

namespace masr {

// constants.h: cell_kind, cell_activation; GATE_PIPELINE_DEPTH, the cycles after the last group issues (operands,
// table index / products, lookups, blend, quantise: masr_gru_unit / masr_lstm_unit's five stages), and
// ENGINE_START_DEPTH, the cycle in which an engine samples start, after its operand is encoded.

constexpr int gate_count(int kind) { return kind == CELL_GRU ? 3 : kind == CELL_LSTM ? 4 : 1; }

// Figures of steps; C simulation only (empty in synthesis).
struct rnn_stats {
    mxv_stats kernel;     // W x, summed over steps
    mxv_stats recurrent;  // U h (and U_h (r*h) for GRU reset_after=False), summed over steps
#ifndef __SYNTHESIS__
    long long cycles;        // end to end
    long long steps;
    long long kernel_chain;  // the last kernel chain's cycles (load x, start, engine)
    long long words_read;     // words of the compact frames the kernel chains loaded (mask words + non-zeros)
    long long words_written;  // words written into a compact store: the encoded input on entry, the states
#endif
};

inline void clear_stats(rnn_stats &s) {
    clear_mxv_stats(s.kernel);
    clear_mxv_stats(s.recurrent);
#ifndef __SYNTHESIS__
    s.cycles = s.steps = s.kernel_chain = s.words_read = s.words_written = 0;
#endif
}

#ifndef __SYNTHESIS__
// Where a step's recurrent engine calls note their banks' phases, in order (U h; GRU reset_after=False: then
// U_h (r*h)): set by a sweep whose calls an interleaved schedule places (rnn_layer.h), null otherwise.
struct call_recorder {
    phase_sink calls[2];
    int n_calls;
};
inline call_recorder *&active_call_recorder() {
    static call_recorder *recorder = 0;
    return recorder;
}
// Around one recurrent engine call: its lanes note into the recorder's next call.
inline void begin_recurrent_call() {
    call_recorder *r = active_call_recorder();
    if (r == 0) return;
    r->calls[r->n_calls].lane = 0;
    active_phase_sink() = &r->calls[r->n_calls];
}
inline void end_recurrent_call() {
    call_recorder *r = active_call_recorder();
    if (r == 0) return;
    active_phase_sink() = 0;
    r->n_calls++;
}
#endif

inline void add_stats(rnn_stats &total, const rnn_stats &s) {
    add_mxv_stats(total.kernel, s.kernel);
    add_mxv_stats(total.recurrent, s.recurrent);
#ifndef __SYNTHESIS__
    total.cycles += s.cycles;
    total.steps += s.steps;
    total.words_read += s.words_read;
    total.words_written += s.words_written;
#endif
}

#ifndef __SYNTHESIS__

// The figures as STATS_PER_DIRECTION integers: kernel, then recurrent (pairs,
// issued, cycles, busiest lane, idlest lane), then cycles and steps.
inline void flatten_stats(const rnn_stats &s, long long *o) {
    static_assert(STATS_PER_DIRECTION == 12, "flatten_stats writes 2 x 5 engine figures, cycles and steps");
    const mxv_stats *parts[2] = {&s.kernel, &s.recurrent};
    for (int k = 0; k < 2; k++) {
        o[5 * k + 0] = parts[k]->pairs;
        o[5 * k + 1] = parts[k]->issued;
        o[5 * k + 2] = parts[k]->cycles;
        o[5 * k + 3] = parts[k]->busiest_lane;
        o[5 * k + 4] = parts[k]->idlest_lane;
    }
    o[10] = s.cycles;
    o[11] = s.steps;
}
#endif

// Everything a cell reads and never writes: ROM in hardware.
template <class CONFIG_T>
struct rnn_weights {
    sparse_weights<typename CONFIG_T::kernel_config> kernel;            // G*u x n_in
    sparse_weights<typename CONFIG_T::recurrent_config> recurrent;      // G*u x u (2u x u: GRU reset_after=False)
    sparse_weights<typename CONFIG_T::recurrent_h_config> recurrent_h;  // u x u, GRU reset_after=False only
    rom_word<typename CONFIG_T::bias_t> bias[gate_count(CONFIG_T::kind) * CONFIG_T::n_units];
    rom_word<typename CONFIG_T::bias_t> recurrent_bias[gate_count(CONFIG_T::kind) * CONFIG_T::n_units];  // GRU reset_after
    rom_word<typename CONFIG_T::cand_t> act_table[1 << CONFIG_T::act_n_log2];
    rom_word<typename CONFIG_T::gate_t> rec_table[1 << CONFIG_T::rec_n_log2];
};

// Types of the cell's activation tables (ROMs; the recurrent chain is their only reader).
template <class CONFIG_T>
struct cell_tables {
    typedef rom_word<typename CONFIG_T::cand_t> act_entry;
    typedef rom_word<typename CONFIG_T::gate_t> rec_entry;
    static const int ACT_SIZE = 1 << CONFIG_T::act_n_log2;
    static const int REC_SIZE = 1 << CONFIG_T::rec_n_log2;
};

template <class CONFIG_T, class in_T>
typename CONFIG_T::cand_t cell_act(const in_T &x, const typename cell_tables<CONFIG_T>::act_entry act_table[cell_tables<CONFIG_T>::ACT_SIZE]) {
#pragma HLS INLINE
    typedef typename CONFIG_T::cand_t cand_t;
    if (CONFIG_T::activation == ACT_RELU) return relu<in_T, cand_t>(x);
    return lut_activation<CONFIG_T::act_n_log2, CONFIG_T::act_r_log2, in_T, cand_t>(x, act_table);
}

template <class CONFIG_T, class in_T>
typename CONFIG_T::gate_t cell_rec_act(const in_T &x, const typename cell_tables<CONFIG_T>::rec_entry rec_table[cell_tables<CONFIG_T>::REC_SIZE]) {
#pragma HLS INLINE
    typedef typename CONFIG_T::gate_t gate_t;
    if (CONFIG_T::recurrent_activation == ACT_HARD_SIGMOID) return hard_sigmoid<in_T, gate_t>(x);
    return lut_activation<CONFIG_T::rec_n_log2, CONFIG_T::rec_r_log2, in_T, gate_t>(x, rec_table);
}

// acc = accum_t(engine output + bias): exact sum, quantised once.
template <class accum_t, class bias_t, int N>
void add_bias(accum_t acc[N], const rom_word<bias_t> bias[N]) {
    // All N in one cycle at constant indices: the ROM becomes constants.
#pragma HLS ARRAY_PARTITION variable = bias type = complete
    for (int i = 0; i < N; i++) {
#pragma HLS UNROLL
        acc[i] = acc[i] + rom_read(bias[i]);
    }
}

// Groups of the elementwise pass: `lanes` units per iteration of its II=1 loop.
template <class CONFIG_T>
constexpr int gate_groups() {
    return (CONFIG_T::n_units + CONFIG_T::kernel_config::lanes - 1) / CONFIG_T::kernel_config::lanes;
}

template <class CONFIG_T>
constexpr int elementwise_cycles() {
    return gate_groups<CONFIG_T>() + GATE_PIPELINE_DEPTH;
}

// The elementwise gate pass of each cell kind (C simulation adds its cycles to stats).
// xw = accum_t(W x + b) and hu = accum_t(U h) arrive from the engines.
// Specialised per kind (and GRU variant) so that only the engines a cell has
// are instantiated.
template <class CONFIG_T, int KIND = CONFIG_T::kind, bool RESET_AFTER = CONFIG_T::reset_after>
struct cell_update;

// GRU, reset_after=True (Keras' default): r gates U_h h + b_rh.
template <class CONFIG_T>
struct cell_update<CONFIG_T, CELL_GRU, true> {
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::gate_t gate_t;
    typedef typename CONFIG_T::cand_t cand_t;
    static const int U = CONFIG_T::n_units;
    typedef cell_tables<CONFIG_T> T;

    static void run(accum_t xw[3 * U], accum_t hu[3 * U], typename CONFIG_T::state_t h[U], typename CONFIG_T::cell_t *,
                    const sparse_weights<typename CONFIG_T::recurrent_h_config> &,
                    const rom_word<typename CONFIG_T::bias_t> recurrent_bias[3 * U], const typename T::act_entry act_table[T::ACT_SIZE],
                    const typename T::rec_entry rec_table[T::REC_SIZE], rnn_stats &stats) {
        add_bias<accum_t, typename CONFIG_T::bias_t, 3 * U>(hu, recurrent_bias);
    GRU_AFTER:
        for (int g = 0; g < gate_groups<CONFIG_T>(); g++) {
#pragma HLS PIPELINE II = 1
            for (int l = 0; l < CONFIG_T::kernel_config::lanes; l++) {
#pragma HLS UNROLL
            const int j = g * CONFIG_T::kernel_config::lanes + l;
            if (j < U) {
            const gate_t z = cell_rec_act<CONFIG_T>(xw[j] + hu[j], rec_table);
            const gate_t r = cell_rec_act<CONFIG_T>(xw[U + j] + hu[U + j], rec_table);
            const cand_t hh = cell_act<CONFIG_T>(xw[2 * U + j] + r * hu[2 * U + j], act_table);
            h[j] = hh + z * (h[j] - hh);
            }
            }
        }
#ifndef __SYNTHESIS__
        stats.cycles += elementwise_cycles<CONFIG_T>();
#endif
    }
};

// GRU, reset_after=False: hu holds U_zr h (2u rows); U_h needs r * h first,
// so the candidate takes a second pass with its own encoding and engine.
template <class CONFIG_T>
struct cell_update<CONFIG_T, CELL_GRU, false> {
    typedef typename CONFIG_T::state_t state_t;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::gate_t gate_t;
    typedef typename CONFIG_T::cand_t cand_t;
    static const int U = CONFIG_T::n_units;
    typedef cell_tables<CONFIG_T> T;

    static void run(accum_t xw[3 * U], accum_t hu[2 * U], state_t h[U], typename CONFIG_T::cell_t *,
                    const sparse_weights<typename CONFIG_T::recurrent_h_config> &recurrent_h,
                    const rom_word<typename CONFIG_T::bias_t>[3 * U], const typename T::act_entry act_table[T::ACT_SIZE],
                    const typename T::rec_entry rec_table[T::REC_SIZE], rnn_stats &stats) {
        gate_t z[U];
        state_t rh[U];
        // Written `lanes` per cycle, read by the next pass and the encoder (32 per cycle).
#pragma HLS ARRAY_PARTITION variable = z type = complete
#pragma HLS ARRAY_PARTITION variable = rh type = complete
    GRU_BEFORE:
        for (int g = 0; g < gate_groups<CONFIG_T>(); g++) {
#pragma HLS PIPELINE II = 1
            for (int l = 0; l < CONFIG_T::kernel_config::lanes; l++) {
#pragma HLS UNROLL
            const int j = g * CONFIG_T::kernel_config::lanes + l;
            if (j < U) {
            z[j] = cell_rec_act<CONFIG_T>(xw[j] + hu[j], rec_table);
            const gate_t r = cell_rec_act<CONFIG_T>(xw[U + j] + hu[U + j], rec_table);
            rh[j] = r * h[j];
            }
            }
        }
        compact_vector<state_t, U> rhc;
#pragma HLS ARRAY_PARTITION variable = rhc.mask type = complete
#pragma HLS ARRAY_PARTITION variable = rhc.base type = complete
#pragma HLS ARRAY_PARTITION variable = rhc.values type = complete
        encode_activations<state_t, U>(rh, rhc);
        accum_t hh_in[U];
#pragma HLS ARRAY_PARTITION variable = hh_in type = complete
        mxv_stats s;
#ifndef __SYNTHESIS__
        begin_recurrent_call();
#endif
        sparse_mxv<typename CONFIG_T::recurrent_h_config>(rhc, recurrent_h, hh_in, s);
#ifndef __SYNTHESIS__
        end_recurrent_call();
#endif
        add_mxv_stats(stats.recurrent, s);
    GRU_BEFORE_OUT:
        for (int g = 0; g < gate_groups<CONFIG_T>(); g++) {
#pragma HLS PIPELINE II = 1
            for (int l = 0; l < CONFIG_T::kernel_config::lanes; l++) {
#pragma HLS UNROLL
            const int j = g * CONFIG_T::kernel_config::lanes + l;
            if (j < U) {
            const cand_t hh = cell_act<CONFIG_T>(xw[2 * U + j] + hh_in[j], act_table);
            h[j] = hh + z[j] * (h[j] - hh);
            }
            }
        }
#ifndef __SYNTHESIS__
        stats.cycles += 2 * elementwise_cycles<CONFIG_T>() + encode_cycles(U) + ENGINE_START_DEPTH + s.cycles;
#endif
    }
};

template <class CONFIG_T, bool R>
struct cell_update<CONFIG_T, CELL_LSTM, R> {
    static const int U = CONFIG_T::n_units;
    typedef cell_tables<CONFIG_T> T;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::gate_t gate_t;
    typedef typename CONFIG_T::cand_t cand_t;

    static void run(accum_t xw[4 * U], accum_t hu[4 * U], typename CONFIG_T::state_t h[U], typename CONFIG_T::cell_t c[U],
                    const sparse_weights<typename CONFIG_T::recurrent_h_config> &, const rom_word<typename CONFIG_T::bias_t>[4 * U],
                    const typename T::act_entry act_table[T::ACT_SIZE], const typename T::rec_entry rec_table[T::REC_SIZE],
                    rnn_stats &stats) {
    LSTM:
        for (int g = 0; g < gate_groups<CONFIG_T>(); g++) {
#pragma HLS PIPELINE II = 1
            for (int l = 0; l < CONFIG_T::kernel_config::lanes; l++) {
#pragma HLS UNROLL
            const int j = g * CONFIG_T::kernel_config::lanes + l;
            if (j < U) {
            const accum_t pre_i = xw[j] + hu[j], pre_f = xw[U + j] + hu[U + j];
            const accum_t pre_c = xw[2 * U + j] + hu[2 * U + j], pre_o = xw[3 * U + j] + hu[3 * U + j];
            const gate_t i = cell_rec_act<CONFIG_T>(pre_i, rec_table);
            const gate_t f = cell_rec_act<CONFIG_T>(pre_f, rec_table);
            const cand_t g = cell_act<CONFIG_T>(pre_c, act_table);
            const gate_t o = cell_rec_act<CONFIG_T>(pre_o, rec_table);
            c[j] = f * c[j] + i * g;
            const cand_t ac = cell_act<CONFIG_T>(c[j], act_table);
            h[j] = o * ac;
            }
            }
        }
#ifndef __SYNTHESIS__
        stats.cycles += elementwise_cycles<CONFIG_T>();
#endif
    }
};

template <class CONFIG_T, bool R>
struct cell_update<CONFIG_T, CELL_SIMPLE_RNN, R> {
    static const int U = CONFIG_T::n_units;
    typedef cell_tables<CONFIG_T> T;
    typedef typename CONFIG_T::accum_t accum_t;

    static void run(accum_t xw[U], accum_t hu[U], typename CONFIG_T::state_t h[U], typename CONFIG_T::cell_t *,
                    const sparse_weights<typename CONFIG_T::recurrent_h_config> &, const rom_word<typename CONFIG_T::bias_t>[U],
                    const typename T::act_entry act_table[T::ACT_SIZE], const typename T::rec_entry[T::REC_SIZE], rnn_stats &stats) {
    SIMPLE:
        for (int g = 0; g < gate_groups<CONFIG_T>(); g++) {
#pragma HLS PIPELINE II = 1
            for (int l = 0; l < CONFIG_T::kernel_config::lanes; l++) {
#pragma HLS UNROLL
            const int j = g * CONFIG_T::kernel_config::lanes + l;
            if (j < U) {
            const accum_t pre = xw[j] + hu[j];
            h[j] = cell_act<CONFIG_T>(pre, act_table);
            }
            }
        }
#ifndef __SYNTHESIS__
        stats.cycles += elementwise_cycles<CONFIG_T>();
#endif
    }
};

// One input frame as a FIFO entry, in compact form: a sweep receives its
// frames in the order it visits them (rnn_layer.h), so no two processes read
// the layer's input.
template <class T, int N>
using frame = compact_vector<T, N>;

// The kernel chain of one frame: take the next compact frame, load it into
// the kernel engine (no encoding), run the engine, add the bias:
// xw = accum_t(W x + b).  Its cycles (C simulation) go to `cycles`.
// active = false (after the last frame): nothing runs, no frame is taken, 0 cycles.
template <class CONFIG_T>
void kernel_chain(hls::stream<frame<typename CONFIG_T::in_t, CONFIG_T::n_in> > &frames, bool active,
                  typename CONFIG_T::accum_t xw[gate_count(CONFIG_T::kind) * CONFIG_T::n_units],
                  const sparse_weights<typename CONFIG_T::kernel_config> &kernel,
                  const rom_word<typename CONFIG_T::bias_t> bias[gate_count(CONFIG_T::kind) * CONFIG_T::n_units], rnn_stats &stats) {
#pragma HLS INLINE off
    typedef typename CONFIG_T::in_t in_t;
    clear_stats(stats);
    if (active) {
        compact_vector<in_t, CONFIG_T::n_in> xc = frames.read();
#pragma HLS ARRAY_PARTITION variable = xc.mask type = complete
#pragma HLS ARRAY_PARTITION variable = xc.base type = complete
#pragma HLS ARRAY_PARTITION variable = xc.values type = complete
        mxv_stats s;
        sparse_mxv<typename CONFIG_T::kernel_config>(xc, kernel, xw, s);
        add_bias<typename CONFIG_T::accum_t, typename CONFIG_T::bias_t, gate_count(CONFIG_T::kind) * CONFIG_T::n_units>(xw, bias);
        add_mxv_stats(stats.kernel, s);
#ifndef __SYNTHESIS__
        stats.kernel_chain = encode_cycles(CONFIG_T::n_in) + ENGINE_START_DEPTH + s.cycles;  // load: one mask word a cycle
        stats.words_read = frame_words(xc);
#endif
    }
}

// The recurrent chain of one step: encode h, run the recurrent engine, the
// elementwise pass on xw (the kernel chain's results for this frame).  h
// (and c for LSTM) are read and overwritten.  It receives only the weights
// it reads (the recurrent matrices, their bias, the tables).
template <class CONFIG_T>
void recurrent_chain(typename CONFIG_T::accum_t xw[gate_count(CONFIG_T::kind) * CONFIG_T::n_units],
                     typename CONFIG_T::state_t h[CONFIG_T::n_units], typename CONFIG_T::cell_t c[CONFIG_T::n_units],
                     const sparse_weights<typename CONFIG_T::recurrent_config> &recurrent,
                     const sparse_weights<typename CONFIG_T::recurrent_h_config> &recurrent_h,
                     const rom_word<typename CONFIG_T::bias_t> recurrent_bias[gate_count(CONFIG_T::kind) * CONFIG_T::n_units],
                     const typename cell_tables<CONFIG_T>::act_entry act_table[cell_tables<CONFIG_T>::ACT_SIZE],
                     const typename cell_tables<CONFIG_T>::rec_entry rec_table[cell_tables<CONFIG_T>::REC_SIZE], rnn_stats &stats) {
#pragma HLS INLINE off
    typedef typename CONFIG_T::state_t state_t;
    typedef typename CONFIG_T::accum_t accum_t;
    static const int U = CONFIG_T::n_units;
    static const int G = gate_count(CONFIG_T::kind);
    // The gate pass looks up 1 to 3 sigmoids and 1 or 2 activations per unit,
    // for `lanes` units per cycle: ROMs with that many read ports.
#pragma HLS BIND_STORAGE variable = act_table type = rom_np
#pragma HLS BIND_STORAGE variable = rec_table type = rom_np

    clear_stats(stats);
    compact_vector<state_t, U> hc;
#pragma HLS ARRAY_PARTITION variable = hc.mask type = complete
#pragma HLS ARRAY_PARTITION variable = hc.base type = complete
#pragma HLS ARRAY_PARTITION variable = hc.values type = complete
    encode_activations<state_t, U>(h, hc);
    accum_t hu[G * U];
#pragma HLS ARRAY_PARTITION variable = hu type = complete
    mxv_stats s;
#ifndef __SYNTHESIS__
    begin_recurrent_call();
#endif
    sparse_mxv<typename CONFIG_T::recurrent_config>(hc, recurrent, hu, s);
#ifndef __SYNTHESIS__
    end_recurrent_call();
#endif
    add_mxv_stats(stats.recurrent, s);
    // adds the elementwise passes (and U_h) to cycles
    cell_update<CONFIG_T>::run(xw, hu, h, c, recurrent_h, recurrent_bias, act_table, rec_table, stats);
#ifndef __SYNTHESIS__
    stats.cycles += encode_cycles(U) + ENGINE_START_DEPTH + s.cycles;
#endif
}

// One step as a DATAFLOW region of two independent processes: the kernel
// chain of the next frame writes xw_next while the recurrent chain of this
// step reads xw_now (a ping-pong pair: the caller swaps them between steps).
// Each input has one reader: the frames and the kernel's weights go to the
// kernel chain, the recurrent weights and tables to the recurrent chain.
// has_next = false (the last step): no kernel chain.  Figures go to ks and
// rs; the step takes max(rs.cycles, ks.kernel_chain) (step_cycles).
template <class CONFIG_T>
void rnn_stage(hls::stream<frame<typename CONFIG_T::in_t, CONFIG_T::n_in> > &frames, bool has_next,
               typename CONFIG_T::accum_t xw_now[gate_count(CONFIG_T::kind) * CONFIG_T::n_units],
               typename CONFIG_T::accum_t xw_next[gate_count(CONFIG_T::kind) * CONFIG_T::n_units],
               typename CONFIG_T::state_t h[CONFIG_T::n_units], typename CONFIG_T::cell_t c[CONFIG_T::n_units],
               const rnn_weights<CONFIG_T> &w, rnn_stats &ks, rnn_stats &rs) {
#pragma HLS DATAFLOW
    kernel_chain<CONFIG_T>(frames, has_next, xw_next, w.kernel, w.bias, ks);
    recurrent_chain<CONFIG_T>(xw_now, h, c, w.recurrent, w.recurrent_h, w.recurrent_bias, w.act_table, w.rec_table, rs);
}

#ifndef __SYNTHESIS__
// A step's figures from its two chains: the engines' sums, max(RH_t, KX_{t+1}).
inline rnn_stats step_stats(const rnn_stats &ks, const rnn_stats &rs) {
    rnn_stats s = rs;
    s.kernel = ks.kernel;
    s.kernel_chain = ks.kernel_chain;
    s.words_read = ks.words_read;
    s.cycles = rs.cycles > ks.kernel_chain ? rs.cycles : ks.kernel_chain;
    s.steps = 1;
    return s;
}
#endif

}  // namespace masr

#endif
