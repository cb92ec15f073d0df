// Testbench for the dense head (encoder + sparse engine + bias + activation)
// and for the softmax.  tb_config.h lists the configurations, each as
//   TB_HEAD(k, head_config)                           C functions tb_head_load_k, tb_head_run_k
//   TB_HEAD_CONST_WEIGHTS(k, head_config, prefix)     tb_head_load_const_k: the constant arrays
//                                                     prefix_weights, prefix_bias, prefix_table
//   TB_SOFTMAX(k, softmax_config)                     tb_softmax_load_k, tb_softmax_run_k
// so that one library can hold many.
#include <stdint.h>

#include "masr/dense_head.h"
#include "masr/raw_bits.h"
#include "masr/softmax.h"
#include "masr/tests/tb_load.h"

template <class HEAD>
struct head_tb {
    typedef typename HEAD::mxv_config MXV;
    // static: too large for the stack
    inline static masr::sparse_weights<MXV> weights;
    inline static masr::rom_word<typename HEAD::bias_t> bias[HEAD::n_out];
    inline static masr::rom_word<typename HEAD::table_t> table[HEAD::table_size];
    inline static typename HEAD::in_t x[HEAD::max_frames][HEAD::n_in];
    inline static typename HEAD::out_t y[HEAD::max_frames][HEAD::n_out];
    inline static masr::head_stats frame_stats[HEAD::max_frames];

    static void load(const int64_t *mask, const int64_t *lane_rows, const int64_t *lane_n_rows,
                     const int64_t *lane_values, const int64_t *bias_raw, const int64_t *table_raw) {
        masr_tb::load_sparse_weights(weights, mask, lane_rows, lane_n_rows, lane_values);
        masr::array_from_raw(bias_raw, bias, HEAD::n_out);
        masr::array_from_raw(table_raw, table, HEAD::table_size);
    }

    // The parameters as a generated project holds them: constant arrays rendered into tb_config.h.
    template <class W, class B, class T>
    static void load_const(const W &w, const B *b, const T *t) {
        weights = w;
        for (int i = 0; i < HEAD::n_out; i++) bias[i] = b[i];
        for (int i = 0; i < HEAD::table_size; i++) table[i] = t[i];
    }

    // n_frames <= max_frames frames; stats per frame: pairs, issued, cycles, encode, engine, post.
    static int run(const int64_t *x_raw, int n_frames, int64_t *y_raw, int64_t *stats_out) {
        if (n_frames < 0 || n_frames > HEAD::max_frames) return -1;
        for (int t = 0; t < n_frames; t++) masr::array_from_raw(x_raw + t * HEAD::n_in, x[t], HEAD::n_in);
        masr::dense_head_sequence<HEAD>(x, n_frames, y, weights, bias, table, frame_stats);
        for (int t = 0; t < n_frames; t++) {
            masr::array_to_raw(y[t], y_raw + t * HEAD::n_out, HEAD::n_out);
            const masr::head_stats &s = frame_stats[t];
            int64_t *o = stats_out + t * 6;
            o[0] = s.pairs, o[1] = s.issued, o[2] = s.cycles, o[3] = s.encode_cycles, o[4] = s.engine_cycles,
            o[5] = s.post_cycles;
        }
        return 0;
    }
};

template <class SMX>
struct softmax_tb {
    inline static masr::rom_word<typename SMX::exp_t> exp_table[SMX::exp_table_size];
    inline static masr::rom_word<typename SMX::inv_t> inv_table[SMX::inv_table_size];

    static void load(const int64_t *exp_raw, const int64_t *inv_raw) {
        masr::array_from_raw(exp_raw, exp_table, SMX::exp_table_size);
        masr::array_from_raw(inv_raw, inv_table, SMX::inv_table_size);
    }

    static void run(const int64_t *x_raw, int n_frames, int64_t *y_raw, int64_t *cycles_out) {
        for (int t = 0; t < n_frames; t++) {
            static typename SMX::in_t x[SMX::n];
            static typename SMX::out_t y[SMX::n];
            masr::array_from_raw(x_raw + (long long)t * SMX::n, x, SMX::n);
            masr::softmax<SMX>(x, y, exp_table, inv_table);
            cycles_out[t] = masr::softmax_cycles<SMX>();
            masr::array_to_raw(y, y_raw + (long long)t * SMX::n, SMX::n);
        }
    }
};

#define TB_HEAD(k, HEAD)                                                                                    \
    extern "C" void tb_head_load_##k(const int64_t *mask, const int64_t *lane_rows, const int64_t *lane_n_rows, \
                                     const int64_t *lane_values, const int64_t *bias, const int64_t *table) {   \
        head_tb<HEAD>::load(mask, lane_rows, lane_n_rows, lane_values, bias, table);                         \
    }                                                                                                       \
    extern "C" int tb_head_run_##k(const int64_t *x_raw, int n_frames, int64_t *y_raw, int64_t *stats_out) { \
        return head_tb<HEAD>::run(x_raw, n_frames, y_raw, stats_out);                                        \
    }

#define TB_HEAD_CONST_WEIGHTS(k, HEAD, prefix)                                                              \
    extern "C" void tb_head_load_const_##k() {                                                              \
        head_tb<HEAD>::load_const(prefix##_weights, prefix##_bias, prefix##_table);                          \
    }

#define TB_SOFTMAX(k, SMX)                                                                                  \
    extern "C" void tb_softmax_load_##k(const int64_t *exp_raw, const int64_t *inv_raw) {                  \
        softmax_tb<SMX>::load(exp_raw, inv_raw);                                                            \
    }                                                                                                       \
    extern "C" void tb_softmax_run_##k(const int64_t *x_raw, int n_frames, int64_t *y_raw, int64_t *cycles) { \
        softmax_tb<SMX>::run(x_raw, n_frames, y_raw, cycles);                                               \
    }

#include "tb_config.h"
