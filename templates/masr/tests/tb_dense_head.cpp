// Testbench for the dense head (encoder + sparse engine + bias + activation)
// and for the softmax.  tb_config.h (written by the Python side) defines
// TB_HAS_HEAD with `head_config` (and, with TB_HEAD_CONST_WEIGHTS, its rendered
// parameters), and/or TB_HAS_SOFTMAX with `softmax_config`.
#include "tb_config.h"

#include "masr/raw_bits.h"

#ifdef TB_HAS_HEAD
#include "masr/dense_head.h"
#include "masr/tests/tb_load.h"

typedef head_config HEAD;
typedef HEAD::mxv_config HEAD_MXV;

// static: too large for the stack
static masr::sparse_weights<HEAD_MXV> head_weights;
static masr::rom_word<HEAD::bias_t> head_bias[HEAD::n_out];
static masr::rom_word<HEAD::table_t> head_table[HEAD::table_size];
static HEAD::in_t head_x[HEAD::max_frames][HEAD::n_in];
static HEAD::out_t head_y[HEAD::max_frames][HEAD::n_out];
static masr::head_stats head_frame_stats[HEAD::max_frames];

extern "C" {

void tb_head_load(const int64_t *mask, const int64_t *lane_rows, const int64_t *lane_n_rows,
                  const int64_t *lane_values, const int64_t *bias, const int64_t *table) {
    masr_tb::load_sparse_weights(head_weights, mask, lane_rows, lane_n_rows, lane_values);
    masr::array_from_raw(bias, head_bias, HEAD::n_out);
    masr::array_from_raw(table, head_table, HEAD::table_size);
}

#ifdef TB_HEAD_CONST_WEIGHTS
// The parameters as a generated project holds them: constant arrays rendered
// by masr_hls.dense_head.render_weights into tb_config.h.
void tb_head_load_const() {
    head_weights = head_config_weights;
    for (int i = 0; i < HEAD::n_out; i++) head_bias[i] = head_config_bias[i];
    for (int i = 0; i < HEAD::table_size; i++) head_table[i] = head_config_table[i];
}
#endif

// n_frames <= max_frames frames; stats per frame: pairs, issued, cycles, encode, engine, post.
int tb_head_run(const int64_t *x_raw, int n_frames, int64_t *y_raw, int64_t *stats_out) {
    if (n_frames < 0 || n_frames > HEAD::max_frames) return -1;
    for (int t = 0; t < n_frames; t++) masr::array_from_raw(x_raw + t * HEAD::n_in, head_x[t], HEAD::n_in);
    masr::dense_head_sequence<HEAD>(head_x, n_frames, head_y, head_weights, head_bias, head_table,
                                    head_frame_stats);
    for (int t = 0; t < n_frames; t++) {
        masr::array_to_raw(head_y[t], y_raw + t * HEAD::n_out, HEAD::n_out);
        const masr::head_stats &s = head_frame_stats[t];
        int64_t *o = stats_out + t * 6;
        o[0] = s.pairs, o[1] = s.issued, o[2] = s.cycles, o[3] = s.encode_cycles, o[4] = s.engine_cycles,
        o[5] = s.post_cycles;
    }
    return 0;
}
}
#endif

#ifdef TB_HAS_SOFTMAX
#include "masr/softmax.h"

typedef softmax_config SMX;
static masr::rom_word<SMX::exp_t> smx_exp_table[SMX::exp_table_size];
static masr::rom_word<SMX::inv_t> smx_inv_table[SMX::inv_table_size];

extern "C" {

void tb_softmax_load(const int64_t *exp_table, const int64_t *inv_table) {
    masr::array_from_raw(exp_table, smx_exp_table, SMX::exp_table_size);
    masr::array_from_raw(inv_table, smx_inv_table, SMX::inv_table_size);
}

void tb_softmax_run(const int64_t *x_raw, int n_frames, int64_t *y_raw, int64_t *cycles_out) {
    for (int t = 0; t < n_frames; t++) {
        static SMX::in_t x[SMX::n];
        static SMX::out_t y[SMX::n];
        masr::array_from_raw(x_raw + (long long)t * SMX::n, x, SMX::n);
        masr::softmax<SMX>(x, y, smx_exp_table, smx_inv_table);
        cycles_out[t] = masr::softmax_cycles<SMX>();
        masr::array_to_raw(y, y_raw + (long long)t * SMX::n, SMX::n);
    }
}
}
#endif
