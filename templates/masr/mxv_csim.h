// The sparse engine's fast C-simulation twin (built with MASR_FAST_CSIM only;
// synthesis and the ap_fixed C simulation run the dataflow engine of
// sparse_mxv.h).
//
// It computes the same results and the same figures as the dataflow engine,
// without simulating its processes: per lane it walks the rows in slot order
// and their windows in order, as the front end does, takes each window's
// pair and issue counts with popcounts and feeds them to the same lane_clock,
// and does the MACs straight over the set bits of (weight mask AND
// activation mask).  A pair the dataflow engine issues with a zero factor
// adds nothing there, so skipping it here changes no result; with accum_t
// wrapping, the order of the additions cannot change the sum either.
// tests/test_fast_csim.py compares the two builds bit for bit, figures
// included, over the whole conversion matrix.
#ifndef MASR_MXV_CSIM_H
#define MASR_MXV_CSIM_H

#if defined(MASR_FAST_CSIM) && !defined(__SYNTHESIS__)
#define MASR_MXV_CSIM_ENABLED 1

namespace masr {

// Products on raw integers: exact in int64 when the operands' widths sum to
// at most 62 bits, moved onto accum_t's grid (a shift, or accum_t's rounding
// when the product grid is finer) and summed modulo 2^64, then wrapped into
// accum_t once: wrapping is a reduction modulo 2^W, which divides 2^64.
// Other types take the fixed-point operators.
template <class CONFIG_T, bool RAW = is_fast_fixed<typename CONFIG_T::weight_t>::value &&
                                     is_fast_fixed<typename CONFIG_T::act_t>::value &&
                                     is_fast_fixed<typename CONFIG_T::accum_t>::value &&
                                     CONFIG_T::weight_t::width + CONFIG_T::act_t::width <= 62 &&
                                     CONFIG_T::accum_t::width <= 64>
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
    static const int SHIFT = accum_t::F - CONFIG_T::weight_t::F - CONFIG_T::act_t::F;  // product grid -> accum grid
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

template <class CONFIG_T>
void sparse_mxv_csim(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
                     const sparse_weights<CONFIG_T> &w, typename CONFIG_T::accum_t y[CONFIG_T::n_out], mxv_stats &stats) {
    typedef mxv_shape<CONFIG_T> S;
    typedef typename CONFIG_T::accum_t accum_t;
    static const int K = CONFIG_T::macs_per_lane;

    accum_t bank[CONFIG_T::lanes][CONFIG_T::max_lane_rows];
    clear_mxv_stats(stats);
    stats.idlest_lane = -1;
    for (int l = 0; l < CONFIG_T::lanes; l++) {
        const rom_word<typename CONFIG_T::weight_t> *values = w.values[l];
        const int n_rows = w.lane_n_rows[l];
        lane_clock clock;
        clock.start(CONFIG_T::fifo_depth);
        int weight_base = 0, scan = 0;
        for (int slot = 0; slot < n_rows; slot++) {
            const mask_word_t *row = w.mask[l][slot];
            csim_accumulator<CONFIG_T> acc;
            for (int window = 0; window < S::WINDOWS; window++, scan++) {
                int issued = 0;
                for (int k = 0; k < S::WIN_WORDS; k++) {
                    const int word = window * S::WIN_WORDS + k;
                    if (word >= S::N_WORDS) break;
                    const mask_word_t wm = row[word], am = v.mask[word];
                    mask_word_t pairs = wm & am;
                    issued += CONFIG_T::mode == MODE_MASR             ? popcount(pairs)
                              : CONFIG_T::mode == MODE_WEIGHT_SPARSE ? popcount(wm)
                                                                     : popcount(valid_bits(word, CONFIG_T::n_in));
                    stats.pairs += popcount(pairs);
                    const int a_base = v.base[word];
                    while (pairs != 0) {
                        const mask_word_t below = bits_below(lowest_bit(pairs));
                        acc.mac(values[weight_base + popcount(wm & below)], v.values[a_base + popcount(am & below)]);
                        pairs &= pairs - 1;
                    }
                    weight_base += popcount(wm);
                }
                if (issued != 0) clock.window(scan, (issued + K - 1) / K);
                stats.issued += issued;
            }
            bank[l][slot] = acc.value();
        }
        const long long lane = clock.lane_cycles((long long)n_rows * S::WINDOWS, MXV_MAC_DEPTH);
        if (lane > stats.busiest_lane) stats.busiest_lane = lane;
        if (stats.idlest_lane < 0 || lane < stats.idlest_lane) stats.idlest_lane = lane;
    }
    for (int r = 0; r < CONFIG_T::n_out; r++) y[r] = bank[w.row_lane[r]][w.row_slot[r]];
    stats.cycles = stats.busiest_lane + MXV_DONE_DEPTH;
}

}  // namespace masr

#endif
#endif
