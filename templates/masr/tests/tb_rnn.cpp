// Testbench for the recurrent cells, direction sweeps and the bidirectional layer.
// tb_config.h lists the configurations, each as
//   TB_RNN(k, fwd_cell, bwd_cell, merge_cfg, MAX_T)
// (config struct names), so that one library can hold many: the C functions of
// configuration k are tb_load_k, tb_layer_k and tb_bidirectional_k.
#include <stdint.h>

#include "masr/raw_bits.h"
#include "masr/rnn_layer.h"
#include "masr/tests/tb_load.h"

// kernel, recurrent, recurrent_h: mask, lane_rows, lane_n_rows, lane_values
// each; then bias, recurrent_bias, act_table, rec_table.
template <class CFG>
static void load_cell(masr::rnn_weights<CFG> &w, const int64_t *const *p) {
    masr_tb::load_sparse_weights(w.kernel, p[0], p[1], p[2], p[3]);
    masr_tb::load_sparse_weights(w.recurrent, p[4], p[5], p[6], p[7]);
    masr_tb::load_sparse_weights(w.recurrent_h, p[8], p[9], p[10], p[11]);
    static const int GU = masr::gate_count(CFG::kind) * CFG::n_units;
    masr::array_from_raw(p[12], w.bias, GU);
    masr::array_from_raw(p[13], w.recurrent_bias, GU);
    masr::array_from_raw(p[14], w.act_table, 1 << CFG::act_n_log2);
    masr::array_from_raw(p[15], w.rec_table, 1 << CFG::rec_n_log2);
}

static void rnn_stats_to_raw(const masr::rnn_stats &s, int64_t *o) {
    masr_tb::stats_to_raw(s.kernel, o);
    masr_tb::stats_to_raw(s.recurrent, o + 5);
    o[10] = s.cycles, o[11] = s.steps;
}

template <class fwd_cell, class bwd_cell, class merge_cfg, int MAX_T>
struct rnn_tb {
    // static: too large for the stack
    inline static masr::rnn_weights<fwd_cell> fwd_weights;
    inline static masr::rnn_weights<bwd_cell> bwd_weights;
    inline static typename fwd_cell::in_t x[MAX_T][fwd_cell::n_in];  // the input frames of either layer function

    static void load(int backward, const int64_t *const *arrays) {
        if (backward)
            load_cell(bwd_weights, arrays);
        else
            load_cell(fwd_weights, arrays);
    }

    static void read_frames(const int64_t *x_raw, int n_frames) {
        for (int t = 0; t < n_frames; t++) masr::array_from_raw(x_raw + t * fwd_cell::n_in, x[t], fwd_cell::n_in);
    }

    // A unidirectional layer with the forward cell; out: n_frames x n_units, stats: STATS_PER_DIRECTION.
    static void layer(const int64_t *x_raw, int n_frames, int go_backwards, int64_t *out_raw, int64_t *stats_out) {
        static typename fwd_cell::state_t out[MAX_T][fwd_cell::n_units];
        read_frames(x_raw, n_frames);
        masr::rnn_stats s;
        masr::rnn_layer<fwd_cell, MAX_T>(x, n_frames, go_backwards != 0, out, fwd_weights, s);
        for (int t = 0; t < n_frames; t++) masr::array_to_raw(out[t], out_raw + t * fwd_cell::n_units, fwd_cell::n_units);
        rnn_stats_to_raw(s, stats_out);
    }

    // The bidirectional layer; y: frames x merge_cfg::n_out, stats: a block as the top function writes it.
    // stores_output: y goes into a compact store (split for concat), decoded here, as when another layer follows.
    static void bidirectional(const int64_t *x_raw, int n_frames, int return_sequences, int stores_output, int64_t *y_raw,
                              int64_t *stats_out) {
        static typename merge_cfg::out_t y[MAX_T][merge_cfg::n_out];
        static const int SPLIT = merge_cfg::mode == masr::MERGE_CONCAT ? fwd_cell::n_units : 0;
        static masr::compact_sequence<typename merge_cfg::out_t, merge_cfg::n_out, MAX_T, SPLIT> store;
        read_frames(x_raw, n_frames);
        masr::layer_stats s;
        const int n_out_frames = return_sequences ? n_frames : 1;
        if (stores_output) {
            masr::bidirectional_layer<fwd_cell, bwd_cell, merge_cfg, MAX_T>(x, n_frames, return_sequences != 0, store,
                                                                            fwd_weights, bwd_weights, s);
            for (int t = 0; t < n_out_frames; t++) masr::decode_frame(store, t, y[t]);
        } else {
            masr::bidirectional_layer<fwd_cell, bwd_cell, merge_cfg, MAX_T>(x, n_frames, return_sequences != 0, y,
                                                                            fwd_weights, bwd_weights, s);
        }
        for (int t = 0; t < n_out_frames; t++) masr::array_to_raw(y[t], y_raw + t * merge_cfg::n_out, merge_cfg::n_out);
        for (int i = 0; i < masr::STATS_PER_LAYER; i++) stats_out[i] = 0;
        rnn_stats_to_raw(s.fwd, stats_out);
        rnn_stats_to_raw(s.bwd, stats_out + masr::STATS_BACKWARD);
        stats_out[masr::STATS_LAYER_CYCLES] = s.cycles;
        stats_out[masr::STATS_OUT_WRITTEN] = s.out_written;
    }
};

#define TB_RNN(k, FWD, BWD, MERGE, MAX_T)                                                                      \
    extern "C" void tb_load_##k(int backward, const int64_t *const *arrays) {                                 \
        rnn_tb<FWD, BWD, MERGE, MAX_T>::load(backward, arrays);                                                \
    }                                                                                                          \
    extern "C" void tb_layer_##k(const int64_t *x_raw, int n_frames, int go_backwards, int64_t *out_raw,      \
                                 int64_t *stats_out) {                                                         \
        rnn_tb<FWD, BWD, MERGE, MAX_T>::layer(x_raw, n_frames, go_backwards, out_raw, stats_out);              \
    }                                                                                                          \
    extern "C" void tb_bidirectional_##k(const int64_t *x_raw, int n_frames, int return_sequences,            \
                                         int stores_output, int64_t *y_raw, int64_t *stats_out) {              \
        rnn_tb<FWD, BWD, MERGE, MAX_T>::bidirectional(x_raw, n_frames, return_sequences, stores_output, y_raw,  \
                                                      stats_out);                                              \
    }

#include "tb_config.h"
