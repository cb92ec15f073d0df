// Testbench for activation.h.  tb_config.h defines in_t, out_t, N_LOG2, R_LOG2.
#include "tb_config.h"

#include "masr/activation.h"
#include "masr/raw_bits.h"

static out_t table[1 << N_LOG2];

extern "C" {

void tb_load_table(const int64_t *raw) { masr::array_from_raw(raw, table, 1 << N_LOG2); }

// kind: 0 LUT, 1 hard_sigmoid, 2 relu, 3 linear
void tb_activation(int kind, const int64_t *x_raw, int n, int64_t *out) {
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
}
