// Testbench for masr_hls.fixed_point: what assigning to an ap_fixed does.
// tb_config.h defines src_t (a wide source type) and dst_t (the type under test).
#include "tb_config.h"

#include "masr/raw_bits.h"

extern "C" {

void tb_from_double(const double *x, int n, int64_t *out) {
    for (int i = 0; i < n; i++) out[i] = masr::to_raw(dst_t(x[i]));
}

void tb_from_raw(const int64_t *src_raw, int n, int64_t *out) {
    for (int i = 0; i < n; i++) {
        const src_t s = masr::from_raw<src_t>(src_raw[i]);
        const dst_t d = s;
        out[i] = masr::to_raw(d);
    }
}
}
