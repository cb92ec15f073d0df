// A recurrent layer over a sequence: direction sweeps and the bidirectional layer.
//
// Keras semantics: the forward sweep visits frames 0..T-1, a backward sweep
// T-1..0.  A sweep writes its i-th output to out[i] (a bare layer with
// go_backwards), or to the frame it came from (the backward half of a
// Bidirectional, which Keras re-aligns with the input).  The initial state is 0.
//
// The sequence is held whole (the backward direction starts at the last
// frame), in compact form (docs/arithmetic.md, "Sequence storage"): the
// previous layer's compact store (compact_sequence, activation_encoder.h),
// or, for the model's first layer, the dense input port, whose frames the
// reader encodes once on entry.  One frame reader per layer passes each
// direction its compact frames in the order it visits them, through a FIFO,
// ahead of the sweep (its first frame is the sweep's SWEEP_START_DEPTH cycle,
// after frame 0's encoding on entry); each direction's kernel chain loads
// the frame it needs one step ahead, without encoding it (rnn_cell.h).  A
// layer writes its outputs once, into the next layer's compact store or the
// model's dense output port (store_frame).  A concat Bidirectional layer
// whose outputs go into a store writes them as its sweeps produce them, each
// direction into its own half of a split store (compact_sequence with NF > 0):
// no state sequences, no merge pass.  Other merges, and concat into the output
// port, keep both directions' state sequences hf / hb and merge them after
// the sweeps (the merge of frame t needs forward step t and backward step
// T-1-t; the port has one writer).
//
// Cycle model (docs/arithmetic.md, "Cycles of a cell and a layer"; one cycle
// = one iteration of an II=1 loop, the RTL twin runs the same schedule):
//   sweep  = SWEEP_START_DEPTH + ENTRY + KX_0 + sum over t of max(RH_t, KX_{t+1})
//            (ENTRY = mask words(n_in) when the input is the dense port, else 0)
//   layer  = sweep + LAYER_DONE_DEPTH                          (one direction)
//          = max(forward sweep, backward sweep)                 (Bidirectional:
//            + LAYER_DONE_DEPTH                                  two modules at
//                                                                the same time;
//                                                                concat, split store)
//          = max(forward sweep, backward sweep)                 (Bidirectional,
//            + frames out x merge groups                         other merges or
//            + MERGE_PIPELINE_DEPTH + LAYER_DONE_DEPTH            the output port)
//   merge groups: the output in index order, `lanes` a cycle: concat
//   ceil(UF / lanes) + ceil(UB / lanes), sum / mul / ave ceil(U / lanes).
//   MERGE_T::interleave (docs/arithmetic.md, "Interleaved directions"): each
//   sweep's cycles are its end in interleaved_schedule, both directions'
//   recurrent calls on shared engines; counted in C simulation only, the
//   processes below still give each direction its engines (docs/hls.md).
#ifndef MASR_RNN_LAYER_H
#define MASR_RNN_LAYER_H

#include "masr/constants.h"
#include "masr/rnn_cell.h"

namespace masr {

// constants.h: merge_mode; SWEEP_START_DEPTH (reading frame 0 before the first kernel chain), LAYER_DONE_DEPTH
// (the cycle in which the layer signals done), MERGE_PIPELINE_DEPTH (state read, merge unit).

// The figures of a bidirectional layer; C simulation only (empty in synthesis).
struct layer_stats {
    rnn_stats fwd, bwd;
#ifndef __SYNTHESIS__
    long long cycles;         // the layer, end to end
    long long entry_written;  // words of the input port's frames encoded on entry
    long long out_written;    // words written into the output store
#endif
};

// Words a reader wrote encoding the input port's frames on entry; C simulation only.
struct entry_stats {
#ifndef __SYNTHESIS__
    long long written;
#endif
};

// Where the layer's input lives: the dense input port (frames encoded on entry) or a compact store.
template <class X>
struct input_kind {
    static const bool dense = true;
};
template <class T, int N, int MAX_T, int NF>
struct input_kind<compact_sequence<T, N, MAX_T, NF> > {
    static const bool dense = false;
};

// Where Y, a Bidirectional layer's output, splits into its halves: NF of a split store, else 0.
template <class Y>
struct split_of {
    static const int value = 0;
};
template <class T, int N, int MAX_T, int NF>
struct split_of<compact_sequence<T, N, MAX_T, NF> > {
    static const int value = NF;
};

template <bool B>
struct bool_tag {};

// What the interleaved schedule needs of a sweep's steps (C simulation only; empty in synthesis), kept when
// BANKS > 0 (the recurrent engines' banks): the cycle its first step starts, per step the next frame's kernel
// chain KX_{i+1} (0 after the last) and, per recurrent engine call and bank, F, B and the busiest lane's cycles.
template <int MAX_T, int BANKS>
struct sweep_trace {
#ifndef __SYNTHESIS__
    static const bool enabled = BANKS > 0;
    static const int T = BANKS > 0 ? MAX_T : 1;
    static const int N = BANKS > 0 ? BANKS : 1;
    long long start;
    int steps;
    int n_calls;
    long long kx_next[T];
    long long front[T][2][N], issue[T][2][N], cycles[T][2][N];
#endif
};

#ifndef __SYNTHESIS__
// Both directions' recurrent calls on shared engines (docs/arithmetic.md, "Interleaved directions"; the
// reference's rnn_layer.interleaved_schedule): call k of every step goes to engine k, which takes the earliest
// ready call first (forward on a tie).  A call ready in cycle r may start in s = r + 1; each bank starts it in
// max(s, that bank's previous start + its max(F, B - 1)); the call is done when its last bank is, plus
// MXV_DONE_DEPTH.  Returns each direction's sweep end in ends[0] (forward), ends[1].
template <int MAX_T, int BANKS>
void interleaved_schedule(const sweep_trace<MAX_T, BANKS> &fwd, const sweep_trace<MAX_T, BANKS> &bwd, int encode,
                          int elementwise, long long ends[2]) {
    const sweep_trace<MAX_T, BANKS> *trace[2] = {&fwd, &bwd};
    const int n_calls = fwd.n_calls, total = n_calls * fwd.steps;
    long long step_start[2] = {fwd.start, bwd.start};
    long long ready[2] = {fwd.start + encode, bwd.start + encode};
    long long free[2][sweep_trace<MAX_T, BANKS>::N];  // the cycle each bank of each engine may start its next call
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < BANKS; b++) free[k][b] = 0;
    int done[2] = {0, 0};
    for (int event = 0; event < 2 * total; event++) {
        const bool has_f = done[0] < total, has_b = done[1] < total;
        const int d = (has_b && (!has_f || ready[1] < ready[0])) ? 1 : 0;
        const int i = done[d] / n_calls, k = done[d] % n_calls;
        const sweep_trace<MAX_T, BANKS> &tr = *trace[d];
        const long long first = ready[d] + 1;
        long long end = 0;
        for (int b = 0; b < BANKS; b++) {
            const long long start = first > free[k][b] ? first : free[k][b];
            const long long hold = tr.front[i][k][b] > tr.issue[i][k][b] - 1 ? tr.front[i][k][b] : tr.issue[i][k][b] - 1;
            if (start + tr.cycles[i][k][b] > end) end = start + tr.cycles[i][k][b];
            free[k][b] = start + hold;
        }
        end += MXV_DONE_DEPTH;
        if (k == n_calls - 1) {  // the step's last call: the step ends with its chain or the next kernel chain
            const long long chain = end + elementwise, kernel = step_start[d] + tr.kx_next[i];
            step_start[d] = chain > kernel ? chain : kernel;
            ready[d] = step_start[d] + encode;
        } else {
            ready[d] = end + elementwise + encode;
        }
        done[d]++;
    }
    ends[0] = step_start[0];
    ends[1] = step_start[1];
}
#endif

// Cycles a sweep waits for frame 0's encoding on entry (docs/arithmetic.md: ENTRY).
template <class X, int N>
constexpr int entry_cycles() {
    return input_kind<X>::dense ? encode_cycles(N) : 0;
}

#ifndef __SYNTHESIS__
// The sequence storage words of a layer into its block (STATS_ENTRY_WRITTEN, STATS_SEQ_READ, STATS_OUT_WRITTEN).
inline void report_words(long long entry, long long read, long long written, long long *block) {
    block[STATS_ENTRY_WRITTEN] = entry;
    block[STATS_SEQ_READ] = read;
    block[STATS_OUT_WRITTEN] = written;
}

// A layer's figures into its block of the C simulation's stats (the layout: constants.h, STATS_*).
inline void report_figures(const rnn_stats &s, long long entry, long long *block) {
    flatten_stats(s, block);
    block[STATS_LAYER_CYCLES] = s.cycles;
    report_words(entry, s.words_read, s.words_written, block);
}

inline void report_figures(const layer_stats &s, long long *block) {
    flatten_stats(s.fwd, block);
    flatten_stats(s.bwd, block + STATS_BACKWARD);
    block[STATS_LAYER_CYCLES] = s.cycles;
    report_words(s.entry_written, s.fwd.words_read + s.bwd.words_read, s.out_written, block);
}
#endif

// Frames of x (the dense input port or a compact store) in a sweep's order
// (backward: n_frames-1 down to 0), compact, into the sweep's FIFO; the
// reader runs ahead of the sweep, which takes one frame per step.
template <class in_t, int N, int MAX_T, class X>
void read_frames(const X &x, int n_frames, bool backward, hls::stream<frame<in_t, N> > &out, entry_stats &entry) {
#ifndef __SYNTHESIS__
    entry.written = 0;
#endif
READ_FRAMES:
    for (int i = 0; i < n_frames; i++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int t = backward ? n_frames - 1 - i : i;
        frame<in_t, N> f;
        const int words = take_frame<in_t, N>(x, t, f);
#ifndef __SYNTHESIS__
        entry.written += words;
#endif
        out.write(f);
    }
}

// Both directions' frames from one reader of x: frame i to the forward FIFO
// and frame n_frames-1-i to the backward one (two reads of x; an input port's
// frame is encoded once on entry, when the forward direction takes it).
template <class in_t, int N, int MAX_T, class X>
void split_frames(const X &x, int n_frames, hls::stream<frame<in_t, N> > &fwd, hls::stream<frame<in_t, N> > &bwd,
                  entry_stats &entry) {
#ifndef __SYNTHESIS__
    entry.written = 0;
#endif
SPLIT_FRAMES:
    for (int i = 0; i < n_frames; i++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        frame<in_t, N> f, b;
        const int words = take_frame<in_t, N>(x, i, f);
        take_frame<in_t, N>(x, n_frames - 1 - i, b);
#ifndef __SYNTHESIS__
        entry.written += words;
#endif
        fwd.write(f);
        bwd.write(b);
    }
}

// One direction over n_frames <= MAX_T frames, taken from `frames` in the
// sweep's order; out[i] as described above.  The kernel chain of frame 0 runs
// first; then every step is one rnn_stage (the recurrent chain of frame t
// beside the kernel chain of the next frame) and the xw pair swaps (a
// register copy, in the step's first cycle).
// `entry`: the cycles frame 0's encoding on entry takes (the model's first
// layer), else 0.  out: a dense buffer (hf, hb, the output port) or a compact
// store (store_frame packs each state as it is written).  last_only: only
// the final state is written, into out[0] (a concat Bidirectional's half with
// return_sequences=false).
template <class CONFIG_T, int MAX_T, class OUT, class TRACE>
void rnn_sweep(hls::stream<frame<typename CONFIG_T::in_t, CONFIG_T::n_in> > &frames, int n_frames, bool backward,
               bool realign, bool last_only, int entry, OUT &out, const rnn_weights<CONFIG_T> &w, rnn_stats &total,
               TRACE &trace) {
    typedef typename CONFIG_T::accum_t accum_t;
    static const int U = CONFIG_T::n_units;
    static const int GU = gate_count(CONFIG_T::kind) * U;
    typename CONFIG_T::state_t h[U];
    typename CONFIG_T::cell_t c[U];
#pragma HLS ARRAY_PARTITION variable = h type = complete
#pragma HLS ARRAY_PARTITION variable = c type = complete
    accum_t xw_now[GU], xw_next[GU];
#pragma HLS ARRAY_PARTITION variable = xw_now type = complete
#pragma HLS ARRAY_PARTITION variable = xw_next type = complete
    for (int j = 0; j < U; j++) {
#pragma HLS UNROLL
        h[j] = 0;
        c[j] = 0;
    }
    clear_stats(total);
    rnn_stats ks, rs;
    kernel_chain<CONFIG_T>(frames, true, xw_now, w.kernel, w.bias, ks);
    add_mxv_stats(total.kernel, ks.kernel);
#ifndef __SYNTHESIS__
    total.cycles = SWEEP_START_DEPTH + entry + ks.kernel_chain;
    total.words_read = ks.words_read;
    trace.start = total.cycles;
    trace.steps = n_frames;
    trace.n_calls = 0;
#endif
STEPS:
    for (int i = 0; i < n_frames; i++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int t = backward ? n_frames - 1 - i : i;
#ifndef __SYNTHESIS__
        call_recorder recorder;  // the step's recurrent calls note their banks' phases into the trace
        if (TRACE::enabled) {
            for (int k = 0; k < 2; k++) {
                recorder.calls[k].front = trace.front[i][k];
                recorder.calls[k].issue = trace.issue[i][k];
                recorder.calls[k].cycles = trace.cycles[i][k];
                recorder.calls[k].group = CONFIG_T::recurrent_config::bank_lanes;
            }
            recorder.n_calls = 0;
            active_call_recorder() = &recorder;
        }
#endif
        rnn_stage<CONFIG_T>(frames, i + 1 < n_frames, xw_now, xw_next, h, c, w, ks, rs);
#ifndef __SYNTHESIS__
        if (TRACE::enabled) {
            active_call_recorder() = 0;
            trace.n_calls = recorder.n_calls;
        }
#endif
    SWAP:
        for (int k = 0; k < GU; k++) {
#pragma HLS UNROLL
            xw_now[k] = xw_next[k];
        }
#ifndef __SYNTHESIS__
        add_stats(total, step_stats(ks, rs));
        if (TRACE::enabled) trace.kx_next[i] = ks.kernel_chain;
#endif
        if (!last_only || i == n_frames - 1) {
            const int slot = last_only ? 0 : realign ? t : i;
            const int words = store_frame(out, slot, h);  // cast to the store's type (concat: out_t)
#ifndef __SYNTHESIS__
            total.words_written += words;
#endif
        }
    }
}

// A unidirectional layer: input frames in (the dense port or a compact store:
// X), one state per frame out (a dense buffer or a compact store: OUT), or
// with last_only the final state only, into out[0]; a DATAFLOW region of the
// frame reader and the sweep.
template <class CONFIG_T, int MAX_T, class X, class OUT>
void rnn_layer(const X &x, int n_frames, bool go_backwards, OUT &out, const rnn_weights<CONFIG_T> &w, rnn_stats &total,
               entry_stats &entry, bool last_only = false) {
#pragma HLS DATAFLOW
    hls::stream<frame<typename CONFIG_T::in_t, CONFIG_T::n_in> > frames("frames");
#pragma HLS STREAM variable = frames depth = 2
    sweep_trace<MAX_T, 0> trace;  // kept empty: a lone sweep shares no engine
    read_frames<typename CONFIG_T::in_t, CONFIG_T::n_in, MAX_T>(x, n_frames, go_backwards, frames, entry);
    rnn_sweep<CONFIG_T, MAX_T>(frames, n_frames, go_backwards, false, last_only, entry_cycles<X, CONFIG_T::n_in>(), out, w, total, trace);
#ifndef __SYNTHESIS__
    total.cycles += LAYER_DONE_DEPTH;
#endif
}

// The same on the dense input port with a dense output (module testbenches).
template <class CONFIG_T, int MAX_T>
void rnn_layer(const typename CONFIG_T::in_t x[MAX_T][CONFIG_T::n_in], int n_frames, bool go_backwards,
               typename CONFIG_T::state_t out[MAX_T][CONFIG_T::n_units], const rnn_weights<CONFIG_T> &w, rnn_stats &total) {
    entry_stats entry;
    rnn_layer<CONFIG_T, MAX_T>(x, n_frames, go_backwards, out, w, total, entry);
}

// Both directions of a Bidirectional layer at the same time, each on its own
// modules: a DATAFLOW region of three processes, the reader of x and the two
// sweeps, joined by a FIFO of frames each (x has one reader).  Each sweep
// writes its realigned states into its own output, which has no other writer:
// the dense state sequences hf / hb before a merge pass, or the halves y.fwd /
// y.bwd of a split store (a concat layer).  last_only
// (return_sequences=false): each writes its final state only, into frame 0.
template <class FWD_T, class BWD_T, int MAX_T, class X, class OUT_F, class OUT_B, class TRACE>
void bidirectional_sweeps(const X &x, int n_frames, bool last_only, OUT_F &out_f, OUT_B &out_b,
                          const rnn_weights<FWD_T> &wf, const rnn_weights<BWD_T> &wb, rnn_stats &sf, rnn_stats &sb,
                          entry_stats &entry, TRACE &tf, TRACE &tb) {
#pragma HLS DATAFLOW
    hls::stream<frame<typename FWD_T::in_t, FWD_T::n_in> > fwd("fwd_frames"), bwd("bwd_frames");
#pragma HLS STREAM variable = fwd depth = 2
#pragma HLS STREAM variable = bwd depth = 2
    split_frames<typename FWD_T::in_t, FWD_T::n_in, MAX_T>(x, n_frames, fwd, bwd, entry);
    static const int ENTRY = entry_cycles<X, FWD_T::n_in>();
    rnn_sweep<FWD_T, MAX_T>(fwd, n_frames, false, true, last_only, ENTRY, out_f, wf, sf, tf);
    rnn_sweep<BWD_T, MAX_T>(bwd, n_frames, true, true, last_only, ENTRY, out_b, wb, sb, tb);
}

// The sweeps' traces of a Bidirectional layer: kept when its directions are interleaved (MERGE_T::interleave).
template <class FWD_T, class MERGE_T, int MAX_T>
struct layer_trace {
    static const int BANKS = FWD_T::recurrent_config::lanes / FWD_T::recurrent_config::bank_lanes;
    typedef sweep_trace<MAX_T, MERGE_T::interleave ? BANKS : 0> type;
};

#ifndef __SYNTHESIS__
// With MERGE_T::interleave the two sweeps' recurrent chains share the recurrent engines: each direction's
// cycles become its sweep's end in the interleaved schedule (docs/arithmetic.md, "Interleaved directions").
template <class FWD_T, class TRACE>
void interleave_cycles(const TRACE &tf, const TRACE &tb, layer_stats &stats) {
    if (!TRACE::enabled) return;
    long long ends[2];
    interleaved_schedule(tf, tb, encode_cycles(FWD_T::n_units), elementwise_cycles<FWD_T>(), ends);
    stats.fwd.cycles = ends[0];
    stats.bwd.cycles = ends[1];
}
#endif

// MERGE_T: mode, out_t, n_out, lanes, interleave.
template <class MERGE_T, class a_T, class b_T>
typename MERGE_T::out_t merge_pair(const a_T &a, const b_T &b) {
#pragma HLS INLINE
    typedef typename MERGE_T::out_t out_t;
    if (MERGE_T::mode == MERGE_SUM) return out_t(a + b);
    if (MERGE_T::mode == MERGE_MUL) return out_t(a * b);
    const ufixed_t<1, 0> half = 0.5;
    return out_t((a + b) * half);  // MERGE_AVE: exact halving
}

// A concat Bidirectional layer into a split store: the sweeps write the halves, nothing after them but done.
template <class FWD_T, class BWD_T, class MERGE_T, int MAX_T, class X, class Y>
void bidirectional_output(const X &x, int n_frames, bool return_sequences, Y &y, const rnn_weights<FWD_T> &wf,
                          const rnn_weights<BWD_T> &wb, layer_stats &stats, bool_tag<true>) {
    static_assert(MERGE_T::mode == MERGE_CONCAT && split_of<Y>::value == FWD_T::n_units,
                  "a split store holds a concat layer's forward half, then its backward half");
    entry_stats entry;
    static typename layer_trace<FWD_T, MERGE_T, MAX_T>::type tf, tb;
    bidirectional_sweeps<FWD_T, BWD_T, MAX_T>(x, n_frames, !return_sequences, y.fwd, y.bwd, wf, wb, stats.fwd, stats.bwd,
                                              entry, tf, tb);
#ifndef __SYNTHESIS__
    interleave_cycles<FWD_T>(tf, tb, stats);
    stats.cycles = (stats.fwd.cycles > stats.bwd.cycles ? stats.fwd.cycles : stats.bwd.cycles) + LAYER_DONE_DEPTH;
    stats.entry_written = entry.written;
    stats.out_written = stats.fwd.words_written + stats.bwd.words_written;
#endif
}

// Any other Bidirectional layer: both sweeps keep their state sequences hf / hb, then the merge pass.
template <class FWD_T, class BWD_T, class MERGE_T, int MAX_T, class X, class Y>
void bidirectional_output(const X &x, int n_frames, bool return_sequences, Y &y, const rnn_weights<FWD_T> &wf,
                          const rnn_weights<BWD_T> &wb, layer_stats &stats, bool_tag<false>) {
    static const int UF = FWD_T::n_units, UB = BWD_T::n_units;
    static const int L = MERGE_T::lanes;
    static const int UM = UF > UB ? UF : UB;
    static const int GF = (UF + L - 1) / L;  // concat: the forward half's groups, then the backward half's
    static const int GROUPS = MERGE_T::mode == MERGE_CONCAT ? GF + (UB + L - 1) / L : (UM + L - 1) / L;
    static typename FWD_T::state_t hf[MAX_T][UF];
    static typename BWD_T::state_t hb[MAX_T][UB];
    // A sweep stores all its units per step; the merge reads `lanes` per cycle.
#pragma HLS ARRAY_PARTITION variable = hf type = complete dim = 2
#pragma HLS ARRAY_PARTITION variable = hb type = complete dim = 2
    entry_stats entry;
    static typename layer_trace<FWD_T, MERGE_T, MAX_T>::type tf, tb;
    bidirectional_sweeps<FWD_T, BWD_T, MAX_T>(x, n_frames, false, hf, hb, wf, wb, stats.fwd, stats.bwd, entry, tf, tb);
    const int n_out_frames = return_sequences ? n_frames : 1;
#ifndef __SYNTHESIS__
    interleave_cycles<FWD_T>(tf, tb, stats);
    stats.cycles = (stats.fwd.cycles > stats.bwd.cycles ? stats.fwd.cycles : stats.bwd.cycles) +
                   (long long)n_out_frames * GROUPS + MERGE_PIPELINE_DEPTH + LAYER_DONE_DEPTH;
    stats.entry_written = entry.written;
    stats.out_written = 0;
#endif
    typename MERGE_T::out_t frame_out[MERGE_T::n_out];  // the output frame as the merge writes it, `lanes` a cycle
#pragma HLS ARRAY_PARTITION variable = frame_out type = complete
MERGE:
    for (int t = 0; t < n_out_frames; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int tf = return_sequences ? t : n_frames - 1, tb = return_sequences ? t : 0;
    MERGE_GROUP:
        for (int g = 0; g < GROUPS; g++) {
#pragma HLS PIPELINE II = 1
            for (int l = 0; l < L; l++) {
#pragma HLS UNROLL
                if (MERGE_T::mode == MERGE_CONCAT) {  // index order: the forward half, then the backward half
                    const int jf = g * L + l, jb = (g - GF) * L + l;
                    if (g < GF && jf < UF) frame_out[jf] = typename MERGE_T::out_t(hf[tf][jf]);
                    if (g >= GF && jb < UB) frame_out[UF + jb] = typename MERGE_T::out_t(hb[tb][jb]);
                } else {
                    const int j = g * L + l;
                    if (j < UF) frame_out[j] = merge_pair<MERGE_T>(hf[tf][j], hb[tb][j < UB ? j : 0]);
                }
            }
        }
        // Each group's outputs are packed in the merge's write stage (store_frame: mask bits, prefix count).
        const int words = store_frame<typename MERGE_T::out_t, MERGE_T::n_out>(y, t, frame_out);
#ifndef __SYNTHESIS__
        stats.out_written += words;
#endif
    }
}

// Bidirectional layer: forward cell FWD_T, backward cell BWD_T (both take their frames from x: the dense
// input port or a compact store).  With return_sequences=false, y[0] merges the final states: the forward
// half's at frame n_frames-1 and the backward half's at frame 0.  y: a split store (concat: each sweep writes
// its half as it goes), a compact store (the merge writes it as it goes through each output frame in index
// order) or a dense buffer (the output port).
template <class FWD_T, class BWD_T, class MERGE_T, int MAX_T, class X, class Y>
void bidirectional_layer(const X &x, int n_frames, bool return_sequences, Y &y, const rnn_weights<FWD_T> &wf,
                         const rnn_weights<BWD_T> &wb, layer_stats &stats) {
    static_assert(FWD_T::n_in == BWD_T::n_in, "both directions read the same input");
    static const int UF = FWD_T::n_units, UB = BWD_T::n_units;
    static_assert(MERGE_T::mode == MERGE_CONCAT ? MERGE_T::n_out == UF + UB : (UF == UB && MERGE_T::n_out == UF),
                  "merge output size");
    static_assert(!MERGE_T::interleave || (FWD_T::kind == BWD_T::kind && UF == UB && FWD_T::reset_after == BWD_T::reset_after &&
                                           FWD_T::recurrent_config::lanes == BWD_T::recurrent_config::lanes &&
                                           FWD_T::recurrent_config::bank_lanes == BWD_T::recurrent_config::bank_lanes),
                  "interleaved directions share their recurrent engines: same cell kind, units and lanes");
    bidirectional_output<FWD_T, BWD_T, MERGE_T, MAX_T>(x, n_frames, return_sequences, y, wf, wb, stats,
                                                       bool_tag<(split_of<Y>::value > 0)>());
}

}  // namespace masr

#endif
