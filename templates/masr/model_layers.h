// The layers as the generated top function calls them: one call per layer,
// which runs the layer on frames [0, frames), returns how many frames it
// passes on, and in C simulation writes the layer's figures block.
//
// figures: where a layer reports in C simulation, a block of STATS_PER_LAYER
// integers laid out as constants.h's STATS_* say.  In synthesis it holds
// nothing, so the top function's calls read the same in both.
//
// x is the model's dense input port (the first layer: its frames are encoded
// once on entry) or the previous layer's compact store (compact_sequence); y
// is the next layer's compact store or the model's dense output port
// (docs/arithmetic.md, "Sequence storage").  Each call is a template on both.
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
// the sweep writes its final state only, into y's frame 0 (y: a one-frame
// store or port; no buffer of the other states).
template <class CELL_T, int MAX_T, class X, class Y>
int model_rnn_layer(const X &x, int frames, bool go_backwards, bool return_sequences, Y &y, const rnn_weights<CELL_T> &w,
                    figures out) {
    rnn_stats s;
    entry_stats entry;
    rnn_layer<CELL_T, MAX_T>(x, frames, go_backwards, y, w, s, entry, !return_sequences);
#ifndef __SYNTHESIS__
    out.clear();
    report_figures(s, entry.written, out.block);
#endif
    return return_sequences ? frames : 1;
}

// A Bidirectional layer (rnn_layer.h's bidirectional_layer).
template <class FWD_T, class BWD_T, class MERGE_T, int MAX_T, class X, class Y>
int model_bidirectional_layer(const X &x, int frames, bool return_sequences, Y &y, const rnn_weights<FWD_T> &wf,
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
    long long cycles = extra_cycles, entry = 0, read = 0, written = 0;
    for (int t = 0; t < frames; t++) {
        cycles += stats[t].cycles;
        out.block[0] += stats[t].pairs;
        out.block[1] += stats[t].issued;
        out.block[2] += stats[t].engine_cycles;
        entry += stats[t].entry_written;
        read += stats[t].words_read;
        written += stats[t].words_written;
    }
    out.block[STATS_LAYER_CYCLES] = cycles;
    report_words(entry, read, written, out.block);
}
#endif

// A Dense / TimeDistributed(Dense) head on every frame.
template <class HEAD_T, int MAX_T, class X, class Y>
int model_dense_layer(const X &x, int frames, Y &y,
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
template <class HEAD_T, class SOFTMAX_T, int MAX_T, class X, class Y>
int model_dense_softmax_layer(const X &x, int frames, Y &y,
                              const sparse_weights<typename HEAD_T::mxv_config> &weights,
                              const rom_word<typename HEAD_T::bias_t> bias[HEAD_T::n_out],
                              const rom_word<typename HEAD_T::table_t> table[HEAD_T::table_size],
                              const rom_word<typename SOFTMAX_T::exp_t> exp_table[SOFTMAX_T::exp_table_size],
                              const rom_word<typename SOFTMAX_T::inv_t> inv_table[SOFTMAX_T::inv_table_size], figures out) {
    static_assert(HEAD_T::n_out == SOFTMAX_T::n, "the softmax reads the head's outputs");
    static head_stats hs[MAX_T];
    static typename HEAD_T::out_t z[frames_of<X, MAX_T>::value][HEAD_T::n_out];  // as many frames as x holds
#pragma HLS ARRAY_PARTITION variable = z type = complete dim = 2
    dense_head_sequence<HEAD_T>(x, frames, z, weights, bias, table, hs);
SOFTMAX_FRAMES:
    for (int t = 0; t < frames; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MAX_T
        typename SOFTMAX_T::out_t p[SOFTMAX_T::n];
#pragma HLS ARRAY_PARTITION variable = p type = complete
        softmax<SOFTMAX_T>(z[t], p, exp_table, inv_table);
        const int words = store_frame<typename SOFTMAX_T::out_t, SOFTMAX_T::n>(y, t, p);
#ifndef __SYNTHESIS__
        hs[t].words_written = words;  // the head's own output went to z, an internal buffer
#endif
    }
#ifndef __SYNTHESIS__
    report_head_figures<MAX_T>(hs, frames, (long long)frames * softmax_cycles<SOFTMAX_T>(), out);
#endif
    return frames;
}

}  // namespace masr

#endif
