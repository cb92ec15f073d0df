// A recurrent layer over a sequence: direction sweeps and the bidirectional layer.
//
// Keras semantics: the forward sweep visits frames 0..T-1, a backward sweep
// T-1..0.  A sweep writes its i-th output to out[i] (a bare layer with
// go_backwards), or to the frame it came from (the backward half of a
// Bidirectional, which Keras re-aligns with the input).  The initial state is 0.
//
// The sequence is the layer's input array, held whole (the backward
// direction starts at the last frame).  One frame reader per layer passes
// each direction its frames in the order it visits them, through a FIFO, one
// frame per cycle and ahead of the sweep (its first frame is the sweep's
// SWEEP_START_DEPTH cycle); each direction's kernel chain encodes the frame
// it needs one step ahead (rnn_cell.h).
//
// Cycle model (docs/arithmetic.md, "Cycles of a cell and a layer"; one cycle
// = one iteration of an II=1 loop, the RTL twin runs the same schedule):
//   sweep  = SWEEP_START_DEPTH + KX_0 + sum over t of max(RH_t, KX_{t+1})
//   layer  = sweep + LAYER_DONE_DEPTH                          (one direction)
//          = max(forward sweep, backward sweep)                 (Bidirectional:
//            + frames out x ceil(units / lanes)                  two modules at
//            + MERGE_PIPELINE_DEPTH + LAYER_DONE_DEPTH            the same time)
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
    long long cycles;  // the layer, end to end
#endif
};

#ifndef __SYNTHESIS__
// A layer's figures into its block of the C simulation's stats (the layout: constants.h, STATS_*).
inline void report_figures(const rnn_stats &s, long long *block) {
    flatten_stats(s, block);
    block[STATS_LAYER_CYCLES] = s.cycles;
}

inline void report_figures(const layer_stats &s, long long *block) {
    flatten_stats(s.fwd, block);
    flatten_stats(s.bwd, block + STATS_BACKWARD);
    block[STATS_LAYER_CYCLES] = s.cycles;
}
#endif

// Frames of x in a sweep's order (backward: n_frames-1 down to 0), one per
// cycle, into the sweep's FIFO; the reader runs ahead of the sweep, which
// takes one frame per step.
template <class in_t, int N, int MAX_T>
void read_frames(const in_t x[MAX_T][N], int n_frames, bool backward, hls::stream<frame<in_t, N> > &out) {
READ_FRAMES:
    for (int i = 0; i < n_frames; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int t = backward ? n_frames - 1 - i : i;
        frame<in_t, N> f;
        for (int j = 0; j < N; j++) {
#pragma HLS UNROLL
            f.v[j] = x[t][j];
        }
        out.write(f);
    }
}

// Both directions' frames from one reader of x: per cycle frame i to the
// forward FIFO and frame n_frames-1-i to the backward one (two reads of x).
template <class in_t, int N, int MAX_T>
void split_frames(const in_t x[MAX_T][N], int n_frames, hls::stream<frame<in_t, N> > &fwd,
                  hls::stream<frame<in_t, N> > &bwd) {
SPLIT_FRAMES:
    for (int i = 0; i < n_frames; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        frame<in_t, N> f, b;
        for (int j = 0; j < N; j++) {
#pragma HLS UNROLL
            f.v[j] = x[i][j];
            b.v[j] = x[n_frames - 1 - i][j];
        }
        fwd.write(f);
        bwd.write(b);
    }
}

// One direction over n_frames <= MAX_T frames, taken from `frames` in the
// sweep's order; out[i] as described above.  The kernel chain of frame 0 runs
// first; then every step is one rnn_stage (the recurrent chain of frame t
// beside the kernel chain of the next frame) and the xw pair swaps (a
// register copy, in the step's first cycle).
template <class CONFIG_T, int MAX_T>
void rnn_sweep(hls::stream<frame<typename CONFIG_T::in_t, CONFIG_T::n_in> > &frames, int n_frames, bool backward,
               bool realign, typename CONFIG_T::state_t out[MAX_T][CONFIG_T::n_units], const rnn_weights<CONFIG_T> &w,
               rnn_stats &total) {
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
    total.cycles = SWEEP_START_DEPTH + ks.kernel_chain;
#endif
STEPS:
    for (int i = 0; i < n_frames; i++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int t = backward ? n_frames - 1 - i : i;
        rnn_stage<CONFIG_T>(frames, i + 1 < n_frames, xw_now, xw_next, h, c, w, ks, rs);
    SWAP:
        for (int k = 0; k < GU; k++) {
#pragma HLS UNROLL
            xw_now[k] = xw_next[k];
        }
#ifndef __SYNTHESIS__
        add_stats(total, step_stats(ks, rs));
#endif
        const int slot = realign ? t : i;
    STORE:
        for (int j = 0; j < U; j++) {
#pragma HLS UNROLL
            out[slot][j] = h[j];
        }
    }
}

// A unidirectional layer: dense input frames in, one state per frame out; a
// DATAFLOW region of the frame reader and the sweep.
template <class CONFIG_T, int MAX_T>
void rnn_layer(const typename CONFIG_T::in_t x[MAX_T][CONFIG_T::n_in], int n_frames, bool go_backwards,
               typename CONFIG_T::state_t out[MAX_T][CONFIG_T::n_units], const rnn_weights<CONFIG_T> &w, rnn_stats &total) {
#pragma HLS DATAFLOW
    hls::stream<frame<typename CONFIG_T::in_t, CONFIG_T::n_in> > frames("frames");
#pragma HLS STREAM variable = frames depth = 2
    read_frames<typename CONFIG_T::in_t, CONFIG_T::n_in, MAX_T>(x, n_frames, go_backwards, frames);
    rnn_sweep<CONFIG_T, MAX_T>(frames, n_frames, go_backwards, false, out, w, total);
#ifndef __SYNTHESIS__
    total.cycles += LAYER_DONE_DEPTH;
#endif
}

// Both directions of a Bidirectional layer at the same time, each on its own
// modules: a DATAFLOW region of three processes, the reader of x and the two
// sweeps, joined by a FIFO of frames each (x has one reader).
template <class FWD_T, class BWD_T, int MAX_T>
void bidirectional_sweeps(const typename FWD_T::in_t x[MAX_T][FWD_T::n_in], int n_frames,
                          typename FWD_T::state_t hf[MAX_T][FWD_T::n_units], typename BWD_T::state_t hb[MAX_T][BWD_T::n_units],
                          const rnn_weights<FWD_T> &wf, const rnn_weights<BWD_T> &wb, rnn_stats &sf, rnn_stats &sb) {
#pragma HLS DATAFLOW
    hls::stream<frame<typename FWD_T::in_t, FWD_T::n_in> > fwd("fwd_frames"), bwd("bwd_frames");
#pragma HLS STREAM variable = fwd depth = 2
#pragma HLS STREAM variable = bwd depth = 2
    split_frames<typename FWD_T::in_t, FWD_T::n_in, MAX_T>(x, n_frames, fwd, bwd);
    rnn_sweep<FWD_T, MAX_T>(fwd, n_frames, false, true, hf, wf, sf);
    rnn_sweep<BWD_T, MAX_T>(bwd, n_frames, true, true, hb, wb, sb);
}

// MERGE_T: mode, out_t, n_out, lanes.
template <class MERGE_T, class a_T, class b_T>
typename MERGE_T::out_t merge_pair(const a_T &a, const b_T &b) {
#pragma HLS INLINE
    typedef typename MERGE_T::out_t out_t;
    if (MERGE_T::mode == MERGE_SUM) return out_t(a + b);
    if (MERGE_T::mode == MERGE_MUL) return out_t(a * b);
    const ufixed_t<1, 0> half = 0.5;
    return out_t((a + b) * half);  // MERGE_AVE: exact halving
}

// Bidirectional layer: forward cell FWD_T, backward cell BWD_T (both take their frames from x).
// With return_sequences=false, y[0] merges the final states: the forward
// half's at frame n_frames-1 and the backward half's at frame 0.
template <class FWD_T, class BWD_T, class MERGE_T, int MAX_T>
void bidirectional_layer(const typename FWD_T::in_t x[MAX_T][FWD_T::n_in], int n_frames, bool return_sequences,
                         typename MERGE_T::out_t y[MAX_T][MERGE_T::n_out], const rnn_weights<FWD_T> &wf,
                         const rnn_weights<BWD_T> &wb, layer_stats &stats) {
    static_assert(FWD_T::n_in == BWD_T::n_in, "both directions read the same input");
    static const int UF = FWD_T::n_units, UB = BWD_T::n_units;
    static_assert(MERGE_T::mode == MERGE_CONCAT ? MERGE_T::n_out == UF + UB : (UF == UB && MERGE_T::n_out == UF),
                  "merge output size");
    static const int L = MERGE_T::lanes;
    static const int UM = UF > UB ? UF : UB;
    static const int GROUPS = (UM + L - 1) / L;
    static typename FWD_T::state_t hf[MAX_T][UF];
    static typename BWD_T::state_t hb[MAX_T][UB];
    // A sweep stores all its units per step; the merge reads `lanes` per cycle.
#pragma HLS ARRAY_PARTITION variable = hf type = complete dim = 2
#pragma HLS ARRAY_PARTITION variable = hb type = complete dim = 2
    bidirectional_sweeps<FWD_T, BWD_T, MAX_T>(x, n_frames, hf, hb, wf, wb, stats.fwd, stats.bwd);
    const int n_out_frames = return_sequences ? n_frames : 1;
#ifndef __SYNTHESIS__
    stats.cycles = (stats.fwd.cycles > stats.bwd.cycles ? stats.fwd.cycles : stats.bwd.cycles) +
                   (long long)n_out_frames * GROUPS + MERGE_PIPELINE_DEPTH + LAYER_DONE_DEPTH;
#endif
MERGE:
    for (int t = 0; t < n_out_frames; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int tf = return_sequences ? t : n_frames - 1, tb = return_sequences ? t : 0;
    MERGE_GROUP:
        for (int g = 0; g < GROUPS; g++) {
#pragma HLS PIPELINE II = 1
            for (int l = 0; l < L; l++) {
#pragma HLS UNROLL
                const int j = g * L + l;
                if (MERGE_T::mode == MERGE_CONCAT) {
                    if (j < UF) y[t][j] = typename MERGE_T::out_t(hf[tf][j]);
                    if (j < UB) y[t][UF + j] = typename MERGE_T::out_t(hb[tb][j]);
                } else if (j < UF) {
                    y[t][j] = merge_pair<MERGE_T>(hf[tf][j], hb[tb][j < UB ? j : 0]);
                }
            }
        }
    }
}

}  // namespace masr

#endif
