// The layers as the generated top function calls them: one call per layer,
// which runs the layer on frames [0, frames), returns how many frames it
// passes on, and in C simulation writes the layer's figures block.
//
// figures: where a layer reports in C simulation, a block of STATS_PER_LAYER
// integers laid out as constants.h's STATS_* say.  In synthesis it holds
// nothing, so the top function's calls read the same in both.
#ifndef MASR_MODEL_LAYERS_H
#define MASR_MODEL_LAYERS_H

#include "masr/constants.h"
#include "masr/dense_head.h"
#include "masr/rnn_layer.h"
#include "masr/softmax.h"

namespace masr {

struct figures {
#ifndef __SYNTHESIS__
    long long *block;
    void clear() const {
        for (int i = 0; i < STATS_PER_LAYER; i++) block[i] = 0;
    }
#endif
};

// A unidirectional GRU / LSTM / SimpleRNN layer.  Without return_sequences
// the layer still produces every frame; only the last goes on (y[0]).
template <class CELL_T, int MAX_T>
int model_rnn_layer(const typename CELL_T::in_t x[MAX_T][CELL_T::n_in], int frames, bool go_backwards,
                    bool return_sequences, typename CELL_T::state_t y[MAX_T][CELL_T::n_units],
                    const rnn_weights<CELL_T> &w, figures out) {
    static typename CELL_T::state_t all[MAX_T][CELL_T::n_units];
#pragma HLS ARRAY_PARTITION variable = all type = complete dim = 2
    rnn_stats s;
    rnn_layer<CELL_T, MAX_T>(x, frames, go_backwards, return_sequences ? y : all, w, s);
    if (!return_sequences) {
    LAST_FRAME:
        for (int j = 0; j < CELL_T::n_units; j++) {
#pragma HLS UNROLL
            y[0][j] = all[frames - 1][j];
        }
    }
#ifndef __SYNTHESIS__
    out.clear();
    report_figures(s, out.block);
#endif
    return return_sequences ? frames : 1;
}

// A Bidirectional layer (rnn_layer.h's bidirectional_layer).
template <class FWD_T, class BWD_T, class MERGE_T, int MAX_T>
int model_bidirectional_layer(const typename FWD_T::in_t x[MAX_T][FWD_T::n_in], int frames, bool return_sequences,
                              typename MERGE_T::out_t y[MAX_T][MERGE_T::n_out], const rnn_weights<FWD_T> &wf,
                              const rnn_weights<BWD_T> &wb, figures out) {
    layer_stats s;
    bidirectional_layer<FWD_T, BWD_T, MERGE_T, MAX_T>(x, frames, return_sequences, y, wf, wb, s);
#ifndef __SYNTHESIS__
    out.clear();
    report_figures(s, out.block);
#endif
    return return_sequences ? frames : 1;
}

#ifndef __SYNTHESIS__
// A head's figures summed over frames: pairs, issued and engine cycles in the
// block's first words, the layer's cycles (extra: the softmax's) in its place.
template <int MAX_T>
void report_head_figures(const head_stats stats[MAX_T], int frames, long long extra_cycles, figures out) {
    out.clear();
    long long cycles = extra_cycles;
    for (int t = 0; t < frames; t++) {
        cycles += stats[t].cycles;
        out.block[0] += stats[t].pairs;
        out.block[1] += stats[t].issued;
        out.block[2] += stats[t].engine_cycles;
    }
    out.block[STATS_LAYER_CYCLES] = cycles;
}
#endif

// A Dense / TimeDistributed(Dense) head on every frame.
template <class HEAD_T, int MAX_T>
int model_dense_layer(const typename HEAD_T::in_t x[MAX_T][HEAD_T::n_in], int frames,
                      typename HEAD_T::out_t y[MAX_T][HEAD_T::n_out],
                      const sparse_weights<typename HEAD_T::mxv_config> &weights,
                      const rom_word<typename HEAD_T::bias_t> bias[HEAD_T::n_out],
                      const rom_word<typename HEAD_T::table_t> table[HEAD_T::table_size], figures out) {
    static head_stats hs[MAX_T];
    dense_head_sequence<HEAD_T>(x, frames, y, weights, bias, table, hs);
#ifndef __SYNTHESIS__
    report_head_figures<MAX_T>(hs, frames, 0, out);
#endif
    return frames;
}

// A Dense head whose activation is a softmax: the head, then the softmax
// stage on each frame.
template <class HEAD_T, class SOFTMAX_T, int MAX_T>
int model_dense_softmax_layer(const typename HEAD_T::in_t x[MAX_T][HEAD_T::n_in], int frames,
                              typename SOFTMAX_T::out_t y[MAX_T][SOFTMAX_T::n],
                              const sparse_weights<typename HEAD_T::mxv_config> &weights,
                              const rom_word<typename HEAD_T::bias_t> bias[HEAD_T::n_out],
                              const rom_word<typename HEAD_T::table_t> table[HEAD_T::table_size],
                              const rom_word<typename SOFTMAX_T::exp_t> exp_table[SOFTMAX_T::exp_table_size],
                              const rom_word<typename SOFTMAX_T::inv_t> inv_table[SOFTMAX_T::inv_table_size], figures out) {
    static_assert(HEAD_T::n_out == SOFTMAX_T::n, "the softmax reads the head's outputs");
    static head_stats hs[MAX_T];
    static typename HEAD_T::out_t z[MAX_T][HEAD_T::n_out];
#pragma HLS ARRAY_PARTITION variable = z type = complete dim = 2
    dense_head_sequence<HEAD_T>(x, frames, z, weights, bias, table, hs);
SOFTMAX_FRAMES:
    for (int t = 0; t < frames; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        softmax<SOFTMAX_T>(z[t], y[t], exp_table, inv_table);
    }
#ifndef __SYNTHESIS__
    report_head_figures<MAX_T>(hs, frames, (long long)frames * softmax_cycles<SOFTMAX_T>(), out);
#endif
    return frames;
}

}  // namespace masr

#endif
