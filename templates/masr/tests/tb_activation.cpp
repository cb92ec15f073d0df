// Testbench for activation.h.  tb_config.h lists the configurations, each as
//   TB_ACTIVATION(k, in_t, out_t, N_LOG2, R_LOG2)
// (types given as typedef names), so that one library can hold many: the C
// functions of configuration k are tb_load_table_k and tb_activation_k.
#include <stdint.h>

#include "masr/activation.h"
#include "masr/raw_bits.h"

template <class in_t, class out_t, int N_LOG2, int R_LOG2>
struct activation_tb {
    inline static out_t table[1 << N_LOG2];

    static void load_table(const int64_t *raw) { masr::array_from_raw(raw, table, 1 << N_LOG2); }

    // kind: 0 LUT, 1 hard_sigmoid, 2 relu, 3 linear
    static void run(int kind, const int64_t *x_raw, int n, int64_t *out) {
        for (int i = 0; i < n; i++) {
            const in_t x = masr::from_raw<in_t>(x_raw[i]);
            out_t y;
            if (kind == 0) y = masr::lut_activation<N_LOG2, R_LOG2, in_t, out_t>(x, table);
            else if (kind == 1) y = masr::hard_sigmoid<in_t, out_t>(x);
            else if (kind == 2) y = masr::relu<in_t, out_t>(x);
            else y = masr::linear<in_t, out_t>(x);
            out[i] = masr::to_raw(y);
        }
    }
};

#define TB_ACTIVATION(k, in_t, out_t, N_LOG2, R_LOG2)                                                 \
    extern "C" void tb_load_table_##k(const int64_t *raw) {                                           \
        activation_tb<in_t, out_t, N_LOG2, R_LOG2>::load_table(raw);                                  \
    }                                                                                                 \
    extern "C" void tb_activation_##k(int kind, const int64_t *x_raw, int n, int64_t *out) {         \
        activation_tb<in_t, out_t, N_LOG2, R_LOG2>::run(kind, x_raw, n, out);                         \
    }

#include "tb_config.h"
