// A recurrent layer over a sequence: direction sweeps and the bidirectional layer.
//
// The layer's input sequence is encoded into compact form once (a bitmask and
// the packed non-zeros per frame: MASR's compact storage of the large dynamic
// activations, which a bidirectional layer must keep whole because its
// backward direction starts at the last frame); both directions read it.
//
// Keras semantics: the forward sweep visits frames 0..T-1, a backward sweep
// T-1..0.  A sweep writes its i-th output to out[i] (a bare layer with
// go_backwards), or to the frame it came from (the backward half of a
// Bidirectional, which Keras re-aligns with the input).  The initial state is 0.
//
// Cycle model: encoding the sequence takes T x mask words; the two directions
// of a bidirectional layer run one after the other on the same modules
// (conservative), then one merge pass of ceil(outputs / lanes) cycles per frame.
#ifndef MASR_RNN_LAYER_H
#define MASR_RNN_LAYER_H

#include "masr/rnn_cell.h"

namespace masr {

enum merge_mode { MERGE_CONCAT = 0, MERGE_SUM = 1, MERGE_MUL = 2, MERGE_AVE = 3 };

template <class T, int N, int MAX_T>
void encode_sequence(const T x[MAX_T][N], int n_frames, compact_vector<T, N> seq[MAX_T]) {
ENCODE:
    for (int t = 0; t < n_frames; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        encode_activations<T, N>(x[t], seq[t]);
    }
}

// The figures of a bidirectional layer; C simulation only (empty in synthesis).
struct layer_stats {
    rnn_stats fwd, bwd;
#ifndef __SYNTHESIS__
    long long cycles;  // the layer, end to end
#endif
};

// One direction over n_frames <= MAX_T frames; out[i] as described above.
template <class CONFIG_T, int MAX_T>
void rnn_sweep(const compact_vector<typename CONFIG_T::in_t, CONFIG_T::n_in> seq[MAX_T], int n_frames, bool backward,
               bool realign, typename CONFIG_T::state_t out[MAX_T][CONFIG_T::n_units], const rnn_weights<CONFIG_T> &w,
               rnn_stats &total) {
    typename CONFIG_T::state_t h[CONFIG_T::n_units];
    typename CONFIG_T::cell_t c[CONFIG_T::n_units];
    for (int j = 0; j < CONFIG_T::n_units; j++) {
#pragma HLS UNROLL
        h[j] = 0;
        c[j] = 0;
    }
    clear_stats(total);
STEPS:
    for (int i = 0; i < n_frames; i++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int t = backward ? n_frames - 1 - i : i;
        rnn_stats s;
        rnn_step<CONFIG_T>(seq[t], h, c, w, s);
        add_stats(total, s);
        const int slot = realign ? t : i;
    STORE:
        for (int j = 0; j < CONFIG_T::n_units; j++) {
#pragma HLS UNROLL
            out[slot][j] = h[j];
        }
    }
}

// A unidirectional layer: dense input frames in, one state per frame out.
template <class CONFIG_T, int MAX_T>
void rnn_layer(const typename CONFIG_T::in_t x[MAX_T][CONFIG_T::n_in], int n_frames, bool go_backwards,
               typename CONFIG_T::state_t out[MAX_T][CONFIG_T::n_units], const rnn_weights<CONFIG_T> &w, rnn_stats &total) {
    static compact_vector<typename CONFIG_T::in_t, CONFIG_T::n_in> seq[MAX_T];
    encode_sequence<typename CONFIG_T::in_t, CONFIG_T::n_in, MAX_T>(x, n_frames, seq);
    rnn_sweep<CONFIG_T, MAX_T>(seq, n_frames, go_backwards, false, out, w, total);
#ifndef __SYNTHESIS__
    total.cycles += (long long)n_frames * encode_cycles(CONFIG_T::n_in);
#endif
}

// MERGE_T: mode, out_t, n_out, lanes.
template <class MERGE_T, class a_T, class b_T>
typename MERGE_T::out_t merge_pair(const a_T &a, const b_T &b) {
#pragma HLS INLINE
    typedef typename MERGE_T::out_t out_t;
    if (MERGE_T::mode == MERGE_SUM) return out_t(a + b);
    if (MERGE_T::mode == MERGE_MUL) return out_t(a * b);
    const ap_ufixed<1, 0> half = 0.5;
    return out_t((a + b) * half);  // MERGE_AVE: exact halving
}

// Bidirectional layer: forward cell FWD_T, backward cell BWD_T (both read the same input).
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
    static compact_vector<typename FWD_T::in_t, FWD_T::n_in> seq[MAX_T];
    static typename FWD_T::state_t hf[MAX_T][UF];
    static typename BWD_T::state_t hb[MAX_T][UB];
    encode_sequence<typename FWD_T::in_t, FWD_T::n_in, MAX_T>(x, n_frames, seq);
    rnn_sweep<FWD_T, MAX_T>(seq, n_frames, false, true, hf, wf, stats.fwd);
    rnn_sweep<BWD_T, MAX_T>(seq, n_frames, true, true, hb, wb, stats.bwd);
    const int n_out_frames = return_sequences ? n_frames : 1;
#ifndef __SYNTHESIS__
    stats.cycles = (long long)n_frames * encode_cycles(FWD_T::n_in) + stats.fwd.cycles + stats.bwd.cycles +
                   (long long)n_out_frames * ((MERGE_T::n_out + MERGE_T::lanes - 1) / MERGE_T::lanes);
#endif
MERGE:
    for (int t = 0; t < n_out_frames; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        const int tf = return_sequences ? t : n_frames - 1, tb = return_sequences ? t : 0;
    MERGE_ROW:
        for (int j = 0; j < MERGE_T::n_out; j++) {
#pragma HLS PIPELINE II = 1
            if (MERGE_T::mode == MERGE_CONCAT) {
                y[t][j] = j < UF ? typename MERGE_T::out_t(hf[tf][j]) : typename MERGE_T::out_t(hb[tb][j - UF]);
            } else {
                y[t][j] = merge_pair<MERGE_T>(hf[tf][j], hb[tb][j < UB ? j : 0]);
            }
        }
    }
}

}  // namespace masr

#endif
