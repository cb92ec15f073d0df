// Testbench for the activation encoder and the sparse engine.  tb_config.h
// lists the configurations, each as
//   TB_MXV(k, mxv_config)
// (a config struct name), so that one library can hold many: the C functions
// of configuration k are tb_encode_k, tb_load_weights_k and tb_mxv_k.
#include <stdint.h>

#include "masr/raw_bits.h"
#include "masr/sparse_mxv.h"
#include "masr/tests/tb_load.h"

template <class CFG>
struct mxv_tb {
    typedef typename CFG::act_t act_t;
    static const int N_WORDS = masr::mask_words(CFG::n_in);

    inline static masr::sparse_weights<CFG> weights;  // static: too large for the stack
    inline static masr::compact_vector<act_t, CFG::n_in> c;  // the encoded vector, static as well

    // Encode n_vectors activation vectors; report masks, packed values and nnz.
    static void encode(const int64_t *x_raw, int n_vectors, int64_t *mask_out, int64_t *values_out, int64_t *nnz_out,
                       int64_t *cycles_out) {
        for (int t = 0; t < n_vectors; t++) {
            act_t x[CFG::n_in];
            masr::array_from_raw(x_raw + t * CFG::n_in, x, CFG::n_in);
            masr::encode_activations<act_t, CFG::n_in>(x, c);
            cycles_out[t] = masr::encode_cycles(CFG::n_in);
            for (int k = 0; k < N_WORDS; k++) mask_out[t * N_WORDS + k] = c.mask[k];
            masr::array_to_raw(c.values, values_out + t * CFG::n_in, c.nnz);
            nnz_out[t] = c.nnz;
            act_t back[CFG::n_in];
            masr::decode_activations<act_t, CFG::n_in>(c, back);
            for (int i = 0; i < CFG::n_in; i++)
                if (back[i] != x[i]) nnz_out[t] = -1;  // round trip broken
        }
    }

    static void load_weights(const int64_t *mask, const int64_t *lane_rows, const int64_t *lane_n_rows,
                             const int64_t *lane_values) {
        masr_tb::load_sparse_weights(weights, mask, lane_rows, lane_n_rows, lane_values);
    }

    // y = W x for n_vectors vectors; stats: pairs, issued, cycles, busiest, idlest.
    static void mxv(const int64_t *x_raw, int n_vectors, int64_t *y_raw, int64_t *stats_out) {
        for (int t = 0; t < n_vectors; t++) {
            act_t x[CFG::n_in];
            masr::array_from_raw(x_raw + t * CFG::n_in, x, CFG::n_in);
            masr::encode_activations<act_t, CFG::n_in>(x, c);
            typename CFG::accum_t y[CFG::n_out];
            masr::mxv_stats s;
            masr::sparse_mxv<CFG>(c, weights, y, s);
            masr::array_to_raw(y, y_raw + t * CFG::n_out, CFG::n_out);
            masr_tb::stats_to_raw(s, stats_out + t * 5);
        }
    }
};

#define TB_MXV(k, CFG)                                                                                         \
    extern "C" void tb_encode_##k(const int64_t *x_raw, int n_vectors, int64_t *mask_out, int64_t *values_out, \
                                  int64_t *nnz_out, int64_t *cycles_out) {                                     \
        mxv_tb<CFG>::encode(x_raw, n_vectors, mask_out, values_out, nnz_out, cycles_out);                      \
    }                                                                                                          \
    extern "C" void tb_load_weights_##k(const int64_t *mask, const int64_t *lane_rows,                         \
                                        const int64_t *lane_n_rows, const int64_t *lane_values) {              \
        mxv_tb<CFG>::load_weights(mask, lane_rows, lane_n_rows, lane_values);                                  \
    }                                                                                                          \
    extern "C" void tb_mxv_##k(const int64_t *x_raw, int n_vectors, int64_t *y_raw, int64_t *stats_out) {      \
        mxv_tb<CFG>::mxv(x_raw, n_vectors, y_raw, stats_out);                                                   \
    }

#include "tb_config.h"
