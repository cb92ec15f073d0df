// The sparse engine's fast C-simulation twin (built with MASR_FAST_CSIM only;
// synthesis and the ap_fixed C simulation run the dataflow engine of
// sparse_mxv.h).
//
// It computes the same results and the same figures as the dataflow engine
// without simulating its processes, in two independent parts:
//   figures   per bank, the rows in slot order and their windows in order, as
//             the front ends examine them: each window's pair and issue
//             counts by popcounts, fed to the same lane_clock (under run-time
//             balancing, each slot to the lane of the bank that is free first);
//   products  y = W v, computed the fastest exact way: dense SIMD dot products
//             on 16-bit raw values where the types allow, else MACs over the
//             set bits of (weight mask AND activation mask).
// A pair with a zero factor adds nothing, and with accum_t wrapping the order
// of the additions cannot change the sum, so any exact summation gives the
// dataflow engine's results.  tests/test_fast_csim.py compares the two builds
// bit for bit, figures included, over the whole conversion matrix.
// Outside the guard: included first, this file lets sparse_mxv.h define the
// engine's types and include it again from its end, where this twin must be
// defined before sparse_mxv() chooses it; the outer inclusion then finds the
// guard set.
#include "masr/sparse_mxv.h"

#ifndef MASR_MXV_CSIM_H
#define MASR_MXV_CSIM_H

#ifndef __SYNTHESIS__
namespace masr {
// Testbenches that load weights at run time call this, so that decodings
// cached from the old weights are made again.
inline long long &csim_weights_epoch() {
    static long long epoch = 0;
    return epoch;
}
inline void csim_weights_loaded() { csim_weights_epoch()++; }
}  // namespace masr
#endif

#if defined(MASR_FAST_CSIM) && !defined(__SYNTHESIS__)
#define MASR_MXV_CSIM_ENABLED 1

#include <stdint.h>
#include <string.h>

namespace masr {

// ---------------------------------------------------------------- figures

// Issue cycles and pairs of window `window` of a row (issued 0: the front end drops it).
template <class CONFIG_T>
int csim_window(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v, const mask_word_t *row, int window,
                mxv_stats &stats) {
    typedef mxv_shape<CONFIG_T> S;
    int issued = 0, pairs = 0;
    for (int k = 0; k < S::WIN_WORDS; k++) {
        const int word = window * S::WIN_WORDS + k;
        if (word >= S::N_WORDS) break;
        const mask_word_t wm = row[word];
        pairs += popcount(wm & v.mask[word]);
        issued += CONFIG_T::mode == MODE_MASR             ? popcount(wm & v.mask[word])
                  : CONFIG_T::mode == MODE_WEIGHT_SPARSE ? popcount(wm)
                                                         : popcount(valid_bits(word, CONFIG_T::n_in));
    }
    stats.pairs += pairs;
    stats.issued += issued;
    return (issued + CONFIG_T::macs_per_lane - 1) / CONFIG_T::macs_per_lane;
}

template <class CONFIG_T>
void mxv_csim_figures(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
                      const sparse_weights<CONFIG_T> &w, mxv_stats &stats) {
    typedef mxv_shape<CONFIG_T> S;
    static const int G = CONFIG_T::bank_lanes;
    clear_mxv_stats(stats);
    stats.idlest_lane = -1;
    for (int b = 0; b < S::BANKS; b++) {
        const int n_rows = w.lane_n_rows[b];
        lane_clock clock[G];
        long long free_at[G];  // the cycle each lane's front end is free
        for (int g = 0; g < G; g++) {
            clock[g].start(CONFIG_T::fifo_depth);
            free_at[g] = 0;
        }
        for (int slot = 0; slot < n_rows; slot++) {
            int g = 0;  // the lane that takes the slot: free first, the lowest of those free together
            for (int k = 1; k < G; k++)
                if (free_at[k] < free_at[g]) g = k;
            for (int window = 0; window < S::WINDOWS; window++) {
                const int c = csim_window<CONFIG_T>(v, w.mask[b][slot], window, stats);
                long long f = free_at[g];
                if (c != 0) {
                    f = clock[g].examine_at(f);
                    clock[g].window_at(f, c);
                }
                free_at[g] = f + 1;
            }
        }
        for (int g = 0; g < G; g++) {
            const long long lane = clock[g].cycles_after(free_at[g], MXV_MAC_DEPTH);
            note_lane_cycles(stats, lane);
            note_lane_phases(free_at[g], clock[g].issue_done(), lane);
        }
    }
    stats.cycles = stats.busiest_lane + MXV_DONE_DEPTH;
}

// ---------------------------------------------------------------- products

// Raw-integer arithmetic applies when every type is integer-backed; SHIFT
// moves a product from its grid onto accum_t's.
template <class CONFIG_T>
struct csim_types {
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::act_t act_t;
    typedef typename CONFIG_T::accum_t accum_t;
    static const bool RAW = is_fast_fixed<weight_t>::value && is_fast_fixed<act_t>::value &&
                            is_fast_fixed<accum_t>::value && weight_t::width + act_t::width <= 62 &&
                            accum_t::width <= 64;
    static const int SHIFT = (accum_t::width - accum_t::iwidth) - (weight_t::width - weight_t::iwidth) -
                             (act_t::width - act_t::iwidth);
    // Dense 16-bit dot products: both factors fit int16 (an unsigned type of
    // 16 bits does not), and the sum modulo 2^32 decides accum_t (at most 32
    // bits, products on a grid no finer than its own).
    static const bool DENSE16 = RAW && weight_t::width + !weight_t::sign_flag <= 16 &&
                                act_t::width + !act_t::sign_flag <= 16 && accum_t::width <= 32 && SHIFT >= 0;
};

// Sparse products, one accumulator per row: the fixed-point operators, or raw
// integers summed modulo 2^64 (then wrapped into accum_t once: a wrap is a
// reduction modulo 2^W, and 2^W divides 2^64).
template <class CONFIG_T, bool RAW = csim_types<CONFIG_T>::RAW>
struct csim_accumulator {
    typedef typename CONFIG_T::accum_t accum_t;
    accum_t sum;
    csim_accumulator() : sum(0) {}
    void mac(const rom_word<typename CONFIG_T::weight_t> &w, const typename CONFIG_T::act_t &a) {
        const accum_t product = rom_read(w) * a;
        sum += product;
    }
    accum_t value() const { return sum; }
};

template <class CONFIG_T>
struct csim_accumulator<CONFIG_T, true> {
    typedef typename CONFIG_T::accum_t accum_t;
    static const int SHIFT = csim_types<CONFIG_T>::SHIFT;
    uint64_t sum;
    csim_accumulator() : sum(0) {}
    void mac(const rom_word<typename CONFIG_T::weight_t> &w, const typename CONFIG_T::act_t &a) {
        const int64_t p = (int64_t)w.bits * (int64_t)a.v;  // a ROM word holds the raw value itself
        if (SHIFT >= 64) return;  // every product is a multiple of 2^64 on the accum grid: 0 modulo 2^W
        sum += SHIFT >= 0 ? (uint64_t)p << (SHIFT >= 0 ? SHIFT : 0)
                          : (uint64_t)fast_round_shift<accum_t::qmode, int64_t>(p, SHIFT < 0 ? -SHIFT : 0);
    }
    accum_t value() const {
        accum_t x;
        x.v = accum_t::wrap((fast_wide_t)(unsigned __int128)sum);
        return x;
    }
};

template <class CONFIG_T, bool DENSE16 = csim_types<CONFIG_T>::DENSE16>
struct mxv_csim_products {
    static void run(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
                    const sparse_weights<CONFIG_T> &w, typename CONFIG_T::accum_t y[CONFIG_T::n_out]) {
        typedef mxv_shape<CONFIG_T> S;
        typename CONFIG_T::accum_t bank[S::BANKS][CONFIG_T::max_lane_rows];
        for (int l = 0; l < S::BANKS; l++) {
            const rom_word<typename CONFIG_T::weight_t> *values = w.values[l];
            int weight_base = 0;
            for (int slot = 0; slot < w.lane_n_rows[l]; slot++) {
                const mask_word_t *row = w.mask[l][slot];
                csim_accumulator<CONFIG_T> acc;
                for (int word = 0; word < S::N_WORDS; word++) {
                    const mask_word_t wm = row[word], am = v.mask[word];
                    const int a_base = v.base[word];
                    for (mask_word_t pairs = wm & am; pairs != 0; pairs &= pairs - 1) {
                        const mask_word_t below = bits_below(lowest_bit(pairs));
                        acc.mac(values[weight_base + popcount(wm & below)], v.values[a_base + popcount(am & below)]);
                    }
                    weight_base += popcount(wm);
                }
                bank[l][slot] = acc.value();
            }
        }
        for (int r = 0; r < CONFIG_T::n_out; r++) y[r] = bank[w.row_lane[r]][w.row_slot[r]];
    }
};

// Dense products: W decoded once (per weights and epoch) into int16 rows
// padded to whole mask words; v expanded into int16 per call.  g++ vectorises
// the dot product (pmaddwd and its AVX forms).
template <class CONFIG_T>
struct mxv_csim_products<CONFIG_T, true> {
    static const int N = mxv_shape<CONFIG_T>::N_WORDS * MASK_BITS;
    struct decoded {
        int16_t w[CONFIG_T::n_out][N];
        const void *source;  // the weights decoded (0: none yet)
        long long epoch;
    };

    static const decoded &weights(const sparse_weights<CONFIG_T> &w) {
        static decoded d;  // zero-initialised: no space in the library file
        if (d.source == &w && d.epoch == csim_weights_epoch()) return d;
        memset(d.w, 0, sizeof(d.w));
        static int row_at[mxv_shape<CONFIG_T>::BANKS][CONFIG_T::max_lane_rows];  // the inverse of row_lane/row_slot
        for (int r = 0; r < CONFIG_T::n_out; r++) row_at[w.row_lane[r]][w.row_slot[r]] = r;
        for (int l = 0; l < mxv_shape<CONFIG_T>::BANKS; l++) {
            int next = 0;  // the lane's packed weights, its rows in slot order
            for (int slot = 0; slot < w.lane_n_rows[l]; slot++)
                for (int j = 0; j < N; j++)
                    if ((w.mask[l][slot][j / MASK_BITS] >> (j % MASK_BITS)) & 1)
                        d.w[row_at[l][slot]][j] = (int16_t)w.values[l][next++].bits;
        }
        d.source = &w;
        d.epoch = csim_weights_epoch();
        return d;
    }

    static int32_t dot(const int16_t *__restrict a, const int16_t *__restrict b) {
        uint32_t s = 0;  // modulo 2^32: overflow is the wrap accum_t applies anyway
        for (int j = 0; j < N; j++) s += (uint32_t)((int32_t)a[j] * (int32_t)b[j]);
        return (int32_t)s;
    }

    static void run(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
                    const sparse_weights<CONFIG_T> &w, typename CONFIG_T::accum_t y[CONFIG_T::n_out]) {
        typedef typename CONFIG_T::accum_t accum_t;
        static const int SHIFT = csim_types<CONFIG_T>::SHIFT;
        const decoded &d = weights(w);
        int16_t x[N];
        memset(x, 0, sizeof(x));
        for (int k = 0; k < mxv_shape<CONFIG_T>::N_WORDS; k++) {
            int next = v.base[k];
            for (mask_word_t m = v.mask[k]; m != 0; m &= m - 1) x[k * MASK_BITS + lowest_bit(m)] = (int16_t)v.values[next++].v;
        }
        for (int r = 0; r < CONFIG_T::n_out; r++) {
            const uint32_t s = SHIFT >= 32 ? 0u : (uint32_t)dot(d.w[r], x) << (SHIFT < 32 ? SHIFT : 0);
            y[r].v = accum_t::wrap((fast_wide_t)s);
        }
    }
};

template <class CONFIG_T>
void sparse_mxv_csim(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
                     const sparse_weights<CONFIG_T> &w, typename CONFIG_T::accum_t y[CONFIG_T::n_out], mxv_stats &stats) {
    mxv_csim_figures<CONFIG_T>(v, w, stats);
    mxv_csim_products<CONFIG_T>::run(v, w, y);
}

}  // namespace masr

#endif
#endif
