// MASR's sparse matrix-vector engine: y = W v on L lanes x K MACs per lane.
//
// Front end (irregular): for each row a lane owns, AND the row's weight mask
// with the activation mask word by word and priority-encode the surviving
// bits into (weight address, activation address) pairs; addresses are mask
// popcounts, so no index arrays are stored.  Back end (regular): K MACs take
// up to K pairs of one row per cycle.  The two are decoupled by a FIFO, so a
// lane takes max(front-end cycles, back-end cycles).
//
// Modes share one datapath and compute identical results (a skipped pair has
// a zero factor); they differ only in which pairs are issued to the MACs:
//   MODE_MASR           weight bit AND activation bit (MASR)
//   MODE_WEIGHT_SPARSE  weight bit only (EIE-like: zero activations still cost)
//   MODE_DENSE          every element (no front end; a dense array)
//
// Products are quantised to accum_t and summed in accum_t, which must wrap:
// wrap-around addition is associative, so the order in which lanes and MACs
// add never changes the result.
//
// Cycle model: one cycle is one iteration of an II=1 pipelined loop.  Per
// lane: front end = rows * ceil(words / scan_words), back end = sum over rows
// of ceil(issued pairs / K).  The engine takes the busiest lane plus the
// pipeline depth (mask read, AND + encode, multiply, accumulate).
#ifndef MASR_SPARSE_MXV_H
#define MASR_SPARSE_MXV_H

#include "ap_fixed.h"
#include "masr/activation_encoder.h"
#include "masr/bitmask.h"
#include "masr/raw_bits.h"

namespace masr {

enum mxv_mode { MODE_DENSE = 0, MODE_WEIGHT_SPARSE = 1, MODE_MASR = 2 };

static const int MXV_PIPELINE_DEPTH = 4;

struct mxv_stats {
    long long pairs;         // non-zero (weight, activation) pairs: the useful work
    long long issued;        // pairs sent to MACs in this mode
    long long cycles;        // engine cycles, pipeline depth included
    long long busiest_lane;  // cycles of the slowest lane
    long long idlest_lane;   // cycles of the fastest lane
};

inline void clear_stats(mxv_stats &s) { s.pairs = s.issued = s.cycles = s.busiest_lane = s.idlest_lane = 0; }

inline void add_stats(mxv_stats &total, const mxv_stats &s) {
    total.pairs += s.pairs;
    total.issued += s.issued;
    total.cycles += s.cycles;
    total.busiest_lane += s.busiest_lane;
    total.idlest_lane += s.idlest_lane;
}

// Weights of one matrix (n_out x n_in) in bitmask form, banked by lane; a ROM
// (values are held as raw ROM words, see raw_bits.h).
template <class CONFIG_T>
struct sparse_weights {
    mask_word_t mask[CONFIG_T::n_out][mask_words(CONFIG_T::n_in)];
    int lane_rows[CONFIG_T::lanes][CONFIG_T::max_lane_rows];
    int lane_n_rows[CONFIG_T::lanes];
    rom_word<typename CONFIG_T::weight_t> values[CONFIG_T::lanes][CONFIG_T::max_lane_nnz];
};

template <class CONFIG_T>
void sparse_mxv(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
                const sparse_weights<CONFIG_T> &w, typename CONFIG_T::accum_t y[CONFIG_T::n_out],
                mxv_stats &stats) {
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::act_t act_t;
    static const int N_WORDS = mask_words(CONFIG_T::n_in);
    static const int K = CONFIG_T::macs_per_lane;
    static_assert(CONFIG_T::lanes >= 1 && K >= 1 && CONFIG_T::scan_words >= 1, "lanes, MACs and scan width >= 1");
    static_assert(accum_t::omode == AP_WRAP, "accum_t must use AP_WRAP so that summation order cannot matter");

    // Address of each activation word's first packed value.
    int act_base[N_WORDS];
    int running = 0;
    for (int k = 0; k < N_WORDS; k++) {
#pragma HLS PIPELINE II = 1
        act_base[k] = running;
        running += popcount(v.mask[k]);
    }

    clear_stats(stats);
    stats.idlest_lane = -1;
LANES:
    for (int l = 0; l < CONFIG_T::lanes; l++) {
#pragma HLS UNROLL
        long long front = 0, back = 0;
        int w_addr = 0;
    ROWS:
        for (int i = 0; i < CONFIG_T::max_lane_rows; i++) {
            if (i >= w.lane_n_rows[l]) break;
            const int row = w.lane_rows[l][i];
            accum_t acc = 0;
            int issued = 0;
        WORDS:
            for (int k = 0; k < N_WORDS; k++) {
#pragma HLS PIPELINE II = 1
                const mask_word_t wm = w.mask[row][k], am = v.mask[k];
                const mask_word_t pairs = wm & am;
                mask_word_t issue = CONFIG_T::mode == MODE_MASR           ? pairs
                                    : CONFIG_T::mode == MODE_WEIGHT_SPARSE ? wm
                                                                           : valid_bits(k, CONFIG_T::n_in);
                stats.pairs += popcount(pairs);
                issued += popcount(issue);
                // Only pairs with both bits set can change acc; the others
                // issued by the weaker modes multiply by zero.
                mask_word_t todo = pairs;
                while (todo) {
                    const int b = lowest_bit(todo);
                    todo &= todo - 1;
                    const weight_t wv = rom_read(w.values[l][w_addr + popcount(wm & bits_below(b))]);
                    const act_t av = v.values[act_base[k] + popcount(am & bits_below(b))];
                    const accum_t product = wv * av;
                    acc += product;
                }
                w_addr += popcount(wm);
            }
            y[row] = acc;
            back += (issued + K - 1) / K;
            if (CONFIG_T::mode != MODE_DENSE) front += (N_WORDS + CONFIG_T::scan_words - 1) / CONFIG_T::scan_words;
            stats.issued += issued;
        }
        const long long lane_cycles = front > back ? front : back;
        if (lane_cycles > stats.busiest_lane) stats.busiest_lane = lane_cycles;
        if (stats.idlest_lane < 0 || lane_cycles < stats.idlest_lane) stats.idlest_lane = lane_cycles;
    }
    stats.cycles = stats.busiest_lane + MXV_PIPELINE_DEPTH;
}

}  // namespace masr

#endif
