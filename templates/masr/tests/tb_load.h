// Testbench helpers: fill MASR's weight structures from raw integer arrays
// written by Python (see masr_hls/module_sim.py for the layouts).
#pragma once

#include <stdint.h>

#include "masr/raw_bits.h"
#include "masr/sparse_mxv.h"

namespace masr_tb {

// mask (n_out x words), lane_rows (banks x max_lane_rows), lane_n_rows (banks),
// lane_values (banks x max_lane_nnz); each slot's first packed weight follows from the masks.
template <class CFG>
void load_sparse_weights(masr::sparse_weights<CFG> &w, const int64_t *mask, const int64_t *lane_rows,
                         const int64_t *lane_n_rows, const int64_t *lane_values) {
    static const int N_WORDS = masr::mask_words(CFG::n_in);
    for (int r = 0; r < CFG::n_out; r++) w.row_lane[r] = w.row_slot[r] = 0;
    for (int l = 0; l < masr::mxv_shape<CFG>::BANKS; l++) {
        w.lane_n_rows[l] = (int)lane_n_rows[l];
        int base = 0;
        for (int i = 0; i < CFG::max_lane_rows; i++) {
            const int row = (int)lane_rows[l * CFG::max_lane_rows + i];
            w.slot_base[l][i] = base;
            for (int k = 0; k < N_WORDS; k++) {
                w.mask[l][i][k] = i < w.lane_n_rows[l] ? (masr::mask_word_t)mask[row * N_WORDS + k] : 0u;
                base += masr::popcount(w.mask[l][i][k]);
            }
            if (i < w.lane_n_rows[l]) w.row_lane[row] = l, w.row_slot[row] = i;
        }
        masr::array_from_raw(lane_values + l * CFG::max_lane_nnz, w.values[l], CFG::max_lane_nnz);
    }
    masr::csim_weights_loaded();
}

inline void stats_to_raw(const masr::mxv_stats &s, int64_t *o) {
    o[0] = s.pairs, o[1] = s.issued, o[2] = s.cycles, o[3] = s.busiest_lane, o[4] = s.idlest_lane;
}

}  // namespace masr_tb
