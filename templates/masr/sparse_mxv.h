// MASR's sparse matrix-vector engine: y = W v on L lanes x K MACs per lane.
//
// Every lane is a separate process with its own banks: the weight masks of
// its rows (slot order), their packed non-zero values and its result bank.
// Inside a lane, a DATAFLOW pipeline of two processes joined by a FIFO:
//
//   front end (mxv_front)  one mask window (WIN_WORDS x 32 bits of one row)
//                          per iteration of an II=1 loop with a constant trip
//                          count (the lane's rows x windows, a ROM constant):
//                          AND with the activation mask; a window with work is
//                          written to the FIFO with the activation mask words
//                          and packed base it needs, an empty one is dropped.
//   FIFO                   hls::stream, depth CONFIG_T::fifo_depth windows.
//   back end  (mxv_back)   one iteration of an II=1 loop per K pairs: K
//                          fixed-width priority encoders take the K lowest
//                          set bits of the head window, popcounts below them
//                          give the packed weight and activation addresses
//                          (no index arrays are stored), K MACs multiply and
//                          one adder tree accumulates.  A window with p
//                          pairs takes ceil(p / K) iterations; the loop runs
//                          until the front end's end marker arrives.
// Each input of the lane region has one reader: the masks (weights and
// activations) go to the front end only, the packed values to the back end
// only (Vitis's dataflow canonical form).
//
// The results leave the lanes by a fixed schedule: y[r] is wired to slot
// row_slot[r] of lane row_lane[r] (a ROM constant: with the weights fixed
// at conversion this is wiring, not a crossbar).
//
// Modes share one datapath and compute identical results (a skipped pair has
// a zero factor); they differ only in which bits are issued to the MACs:
//   MODE_MASR           weight bit AND activation bit (MASR)
//   MODE_WEIGHT_SPARSE  weight bit only (EIE-like: zero activations still cost)
//   MODE_DENSE          every element
//
// Products are quantised to accum_t and summed in accum_t, which must wrap:
// wrap-around addition is associative, so the order in which lanes and MACs
// add never changes the result.
//
// Cycle model (docs/arithmetic.md; one cycle = one iteration of an II=1
// loop, FIFO stalls counted; counted in C simulation only).  Per lane, with
// windows s = 0..S-1 (S = rows x windows per row) and the windows with work
// i = 0..n-1, window i costing c_i = ceil(issued_i / K) back-end cycles:
//   f_s = max(f_{s-1} + 1, q_{i-D})   the front end examines window s
//                                     (stalls while the FIFO of D is full)
//   q_i = max(f_{s(i)}, b_{i-1} + c_{i-1} - 1)  window i leaves the FIFO
//   b_i = q_i + 1                     its first back-end cycle
//   lane = max(f_{S-1} + 1, b_{n-1} + c_{n-1} + MAC_DEPTH)
// and the engine takes 1 + max over lanes (results valid, done).
#ifndef MASR_SPARSE_MXV_H
#define MASR_SPARSE_MXV_H

#include "ap_fixed.h"
#include "hls_stream.h"
#include "masr/activation_encoder.h"
#include "masr/bitmask.h"
#include "masr/constants.h"  // mxv_mode, MXV_MAC_DEPTH, MXV_DONE_DEPTH
#include "masr/raw_bits.h"

namespace masr {

// Figures of engine calls; they exist in C simulation only (an empty struct
// in synthesis, so no counter ever becomes hardware).
struct mxv_stats {
#ifndef __SYNTHESIS__
    long long pairs;         // non-zero (weight, activation) pairs: the useful work
    long long issued;        // pairs sent to MACs in this mode
    long long cycles;        // engine cycles, done included
    long long busiest_lane;  // cycles of the slowest lane
    long long idlest_lane;   // cycles of the fastest lane
#endif
};

inline void clear_mxv_stats(mxv_stats &s) {
#ifndef __SYNTHESIS__
    s.pairs = s.issued = s.cycles = s.busiest_lane = s.idlest_lane = 0;
#endif
}

inline void add_mxv_stats(mxv_stats &total, const mxv_stats &s) {
#ifndef __SYNTHESIS__
    total.pairs += s.pairs;
    total.issued += s.issued;
    total.cycles += s.cycles;
    total.busiest_lane += s.busiest_lane;
    total.idlest_lane += s.idlest_lane;
#endif
}

template <class CONFIG_T>
struct mxv_shape {
    static const int N_WORDS = mask_words(CONFIG_T::n_in);
    static const int WIN_WORDS = CONFIG_T::scan_words < N_WORDS ? CONFIG_T::scan_words : N_WORDS;
    static const int WINDOWS = (N_WORDS + WIN_WORDS - 1) / WIN_WORDS;  // per row
    static const int WIN_BITS = WIN_WORDS * MASK_BITS;
    static const int MAX_SCAN = CONFIG_T::max_lane_rows * WINDOWS;
    // Back-end iterations: every window of every row at its worst, plus the end marker.
    static const int MAX_ISSUE = MAX_SCAN * ((WIN_BITS + CONFIG_T::macs_per_lane - 1) / CONFIG_T::macs_per_lane) + 1;
};

// Weights of one matrix (n_out x n_in) in bitmask form, banked by lane; a ROM
// (values are held as raw ROM words, see raw_bits.h).
template <class CONFIG_T>
struct sparse_weights {
    mask_word_t mask[CONFIG_T::lanes][CONFIG_T::max_lane_rows][mask_words(CONFIG_T::n_in)];  // by lane and slot
    int lane_n_rows[CONFIG_T::lanes];
    rom_word<typename CONFIG_T::weight_t> values[CONFIG_T::lanes][CONFIG_T::max_lane_nnz];
    int row_lane[CONFIG_T::n_out];  // where each result row lives
    int row_slot[CONFIG_T::n_out];
};

// One FIFO entry: a window with work.
template <class CONFIG_T>
struct mxv_window {
    mask_word_t weights[mxv_shape<CONFIG_T>::WIN_WORDS];  // the row's weight mask in this window
    mask_word_t issue[mxv_shape<CONFIG_T>::WIN_WORDS];    // the bits to issue in this mode
    mask_word_t act[mxv_shape<CONFIG_T>::WIN_WORDS];      // the activation mask in this window
    int slot;                                             // row slot in the lane
    int weight_base;                                      // packed address of its first weight
    int act_base;                                         // packed address of its first activation
    bool end;                                             // end of the lane's work (no window)
#ifndef __SYNTHESIS__
    int scan;  // the front-end iteration that found it (the end marker: the lane's windows)
#endif
};

// Population count of the bits of a window below bit b (b in [0, WIN_BITS]).
template <int WORDS>
int window_popcount_below(const mask_word_t w[WORDS], int b) {
#pragma HLS INLINE
    int c = 0;
    for (int k = 0; k < WORDS; k++) {
#pragma HLS UNROLL
        const int rest = b - k * MASK_BITS;
        c += popcount(w[k] & bits_below(rest < 0 ? 0 : rest));
    }
    return c;
}

// Fixed-width priority encoder over a window: the lowest set bit (window != 0).
template <int WORDS>
int window_lowest_bit(const mask_word_t w[WORDS]) {
#pragma HLS INLINE
    int pos = 0;
    bool found = false;
    for (int k = 0; k < WORDS; k++) {
#pragma HLS UNROLL
        if (!found && w[k] != 0) {
            pos = k * MASK_BITS + lowest_bit(w[k]);
            found = true;
        }
    }
    return pos;
}

// Front end of one lane: scan every window of every row, queue those with work.
template <class CONFIG_T>
void mxv_front(const mask_word_t act_mask[mxv_shape<CONFIG_T>::N_WORDS], const int act_base[mxv_shape<CONFIG_T>::N_WORDS],
               const mask_word_t mask[CONFIG_T::max_lane_rows][mxv_shape<CONFIG_T>::N_WORDS], int n_rows,
               hls::stream<mxv_window<CONFIG_T> > &fifo) {
    typedef mxv_shape<CONFIG_T> S;
    // WIN consecutive words of a row per cycle: one bank per word of a window.
#pragma HLS ARRAY_PARTITION variable = mask type = cyclic factor = S::WIN_WORDS dim = 2
    // The weight masks are constants: a ROM per bank.
#pragma HLS BIND_STORAGE variable = mask type = rom_1p
    const int n_scan = n_rows * S::WINDOWS;
    int slot = 0, window = 0, weight_base = 0;
SCAN:
    for (int s = 0; s < n_scan; s++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 0 max = S::MAX_SCAN
        mxv_window<CONFIG_T> e;
        mask_word_t any = 0;
        int weights = 0;
        for (int k = 0; k < S::WIN_WORDS; k++) {
#pragma HLS UNROLL
            const int word = window * S::WIN_WORDS + k;
            const mask_word_t wm = word < S::N_WORDS ? mask[slot][word] : mask_word_t(0);
            const mask_word_t am = word < S::N_WORDS ? act_mask[word] : mask_word_t(0);
            const mask_word_t issue = CONFIG_T::mode == MODE_MASR           ? mask_word_t(wm & am)
                                      : CONFIG_T::mode == MODE_WEIGHT_SPARSE ? wm
                                                                             : valid_bits(word, CONFIG_T::n_in);
            e.weights[k] = wm;
            e.issue[k] = issue;
            e.act[k] = am;
            any |= issue;
            weights += popcount(wm);
        }
        e.slot = slot;
        e.weight_base = weight_base;
        e.act_base = act_base[window * S::WIN_WORDS];
        e.end = false;
#ifndef __SYNTHESIS__
        e.scan = s;
#endif
        if (any != 0) fifo.write(e);
        weight_base += weights;
        if (window == S::WINDOWS - 1) {
            window = 0;
            slot++;
        } else {
            window++;
        }
    }
    mxv_window<CONFIG_T> end;
    for (int k = 0; k < S::WIN_WORDS; k++) {
#pragma HLS UNROLL
        end.weights[k] = end.issue[k] = end.act[k] = 0;
    }
    end.slot = end.weight_base = end.act_base = 0;
    end.end = true;
#ifndef __SYNTHESIS__
    end.scan = n_scan;
#endif
    fifo.write(end);
}

// Cycle count of one lane (C simulation only): the recurrence of the header
// comment, fed one window at a time by the back end.
struct lane_clock {
#ifndef __SYNTHESIS__
    static const int MAX_DEPTH = 64;
    long long q[MAX_DEPTH];  // leave times of the last `depth` windows
    long long offset;        // front-end stall cycles so far
    long long issue_end;     // b_{i} + c_{i} of the last window (0: none yet)
    long long n;             // windows seen
    int ring;                // n mod depth, kept without a division
    int depth;

    void start(int fifo_depth) {
        depth = fifo_depth;
        offset = issue_end = n = 0;
        ring = 0;
    }
    // Window found by front-end iteration `scan`, costing `c` back-end cycles.
    void window(long long scan, long long c) {
        long long f = scan + offset;
        if (n >= depth && q[ring] > f) f = q[ring];  // FIFO full: stall until window n-D leaves
        offset = f - scan;
        const long long leave = (n == 0 || issue_end - 1 < f) ? f : issue_end - 1;
        q[ring] = leave;
        issue_end = leave + 1 + c;
        n++;
        ring = ring + 1 == depth ? 0 : ring + 1;
    }
    long long lane_cycles(long long n_scan, int mac_depth) const {
        const long long front = n_scan + offset;  // f_{S-1} + 1
        const long long back = n == 0 ? 0 : issue_end + mac_depth;
        return front > back ? front : back;
    }
#endif
};

// Back end of one lane: K pairs per iteration, accumulated per row slot.
// Everything it needs of the activations but their values arrives with the
// window, so it reads no mask memory.
template <class CONFIG_T>
void mxv_back(const typename CONFIG_T::act_t act_values[CONFIG_T::n_in],
              const rom_word<typename CONFIG_T::weight_t> values[CONFIG_T::max_lane_nnz],
              hls::stream<mxv_window<CONFIG_T> > &fifo, typename CONFIG_T::accum_t bank[CONFIG_T::max_lane_rows],
              mxv_stats &stats) {
    typedef mxv_shape<CONFIG_T> S;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::act_t act_t;
    static const int K = CONFIG_T::macs_per_lane;
    // K packed weights per cycle at run-time addresses: a ROM with K read ports.
#pragma HLS BIND_STORAGE variable = values type = rom_np

CLEAR:
    for (int i = 0; i < CONFIG_T::max_lane_rows; i++) {
#pragma HLS UNROLL
        bank[i] = 0;
    }
#ifndef __SYNTHESIS__
    lane_clock clock;
    clock.start(CONFIG_T::fifo_depth);
    long long n_scan = 0;
#endif
    mxv_window<CONFIG_T> head;
    mask_word_t todo[S::WIN_WORDS];
    // The priority encoders index these by the bit they pick: registers.
#pragma HLS ARRAY_PARTITION variable = todo type = complete
#pragma HLS ARRAY_PARTITION variable = head.weights type = complete
#pragma HLS ARRAY_PARTITION variable = head.act type = complete
    bool have = false, done = false;
    int last_slot = -1;
    accum_t acc = 0;
    // One iteration per issue cycle; the end marker (after the lane's last
    // window) ends the loop.  The trip count depends on the data; its bound is
    // every window of every row at its worst, plus the marker.
ISSUE:
    for (; !done;) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = S::MAX_ISSUE
        if (!have) {
            head = fifo.read();
            have = true;
            for (int k = 0; k < S::WIN_WORDS; k++) {
#pragma HLS UNROLL
                todo[k] = head.issue[k];
            }
#ifndef __SYNTHESIS__
            if (head.end) {
                n_scan = head.scan;
            } else {
                int issued = 0, pairs = 0;
                for (int k = 0; k < S::WIN_WORDS; k++) {
                    issued += popcount(head.issue[k]);
                    pairs += popcount(head.weights[k] & head.act[k]);
                }
                stats.issued += issued;
                stats.pairs += pairs;
                clock.window(head.scan, (issued + K - 1) / K);
            }
#endif
            if (head.slot != last_slot) acc = 0;
            last_slot = head.slot;
        }
        if (head.end) {
            done = true;
        } else {
            accum_t group = 0;
        MACS:
            for (int m = 0; m < K; m++) {
#pragma HLS UNROLL
                mask_word_t any = 0;
                for (int k = 0; k < S::WIN_WORDS; k++) {
#pragma HLS UNROLL
                    any |= todo[k];
                }
                if (any != 0) {
                    const int b = window_lowest_bit<S::WIN_WORDS>(todo);
                    const int wk = b / MASK_BITS, wb = b % MASK_BITS;
                    todo[wk] &= ~(mask_word_t(1) << wb);
                    const bool w_set = (head.weights[wk] >> wb) & 1, a_set = (head.act[wk] >> wb) & 1;
                    // Bits issued by the weaker modes with a zero factor add nothing.
                    if (w_set && a_set) {
                        const weight_t wv = rom_read(values[head.weight_base + window_popcount_below<S::WIN_WORDS>(head.weights, b)]);
                        const act_t av = act_values[head.act_base + window_popcount_below<S::WIN_WORDS>(head.act, b)];
                        const accum_t product = wv * av;
                        group += product;
                    }
                }
            }
            acc += group;
            bank[head.slot] = acc;
            mask_word_t left = 0;
            for (int k = 0; k < S::WIN_WORDS; k++) {
#pragma HLS UNROLL
                left |= todo[k];
            }
            if (left == 0) have = false;
        }
    }
#ifndef __SYNTHESIS__
    const long long lane = clock.lane_cycles(n_scan, MXV_MAC_DEPTH);
    if (lane > stats.busiest_lane) stats.busiest_lane = lane;
    if (stats.idlest_lane < 0 || lane < stats.idlest_lane) stats.idlest_lane = lane;
#endif
}

// One lane: front end -> FIFO -> back end, as a dataflow region.  The lane's
// rows of the weights (mask, values) and the activation vector are read by
// one process each (compact_vector's members: mask and base by the front
// end, values by the back end).
template <class CONFIG_T>
void mxv_lane(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
              const mask_word_t mask[CONFIG_T::max_lane_rows][mxv_shape<CONFIG_T>::N_WORDS],
              const rom_word<typename CONFIG_T::weight_t> values[CONFIG_T::max_lane_nnz], int n_rows,
              typename CONFIG_T::accum_t bank[CONFIG_T::max_lane_rows], mxv_stats &stats) {
#pragma HLS INLINE off
#pragma HLS DATAFLOW
    hls::stream<mxv_window<CONFIG_T> > fifo("mxv_fifo");
#pragma HLS STREAM variable = fifo depth = CONFIG_T::fifo_depth
    mxv_front<CONFIG_T>(v.mask, v.base, mask, n_rows, fifo);
    mxv_back<CONFIG_T>(v.values, values, fifo, bank, stats);
}

}  // namespace masr

#include "masr/mxv_csim.h"  // the fast C-simulation twin, built on the definitions above

namespace masr {

template <class CONFIG_T>
void sparse_mxv(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v, const sparse_weights<CONFIG_T> &w,
                typename CONFIG_T::accum_t y[CONFIG_T::n_out], mxv_stats &stats) {
    typedef typename CONFIG_T::accum_t accum_t;
    static const int K = CONFIG_T::macs_per_lane;
    static_assert(CONFIG_T::lanes >= 1 && K >= 1 && CONFIG_T::scan_words >= 1, "lanes, MACs and scan width >= 1");
    static_assert(CONFIG_T::fifo_depth >= 1 && CONFIG_T::fifo_depth <= 64, "FIFO depth in 1..64");
    static_assert(accum_t::omode == AP_WRAP, "accum_t must use AP_WRAP so that summation order cannot matter");
#ifdef MASR_MXV_CSIM_ENABLED
    sparse_mxv_csim<CONFIG_T>(v, w, y, stats);  // the dataflow engine below is not even instantiated
#else
#if defined(MASR_FAST_CSIM) && !defined(__SYNTHESIS__)
#error "a fast C simulation must run the engine's twin (mxv_csim.h): it was not defined before sparse_mxv()"
#endif

    accum_t bank[CONFIG_T::lanes][CONFIG_T::max_lane_rows];
#pragma HLS ARRAY_PARTITION variable = bank type = complete dim = 0
    // Every lane has its own banks of the weights (a ROM each, see mxv_front
    // and mxv_back), and the merge reads the whole row map at once.
#pragma HLS ARRAY_PARTITION variable = w.mask type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = w.values type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = w.lane_n_rows type = complete
#pragma HLS ARRAY_PARTITION variable = w.row_lane type = complete
#pragma HLS ARRAY_PARTITION variable = w.row_slot type = complete
    clear_mxv_stats(stats);
#ifndef __SYNTHESIS__
    stats.idlest_lane = -1;
#endif
LANES:
    for (int l = 0; l < CONFIG_T::lanes; l++) {
#pragma HLS UNROLL
        mxv_lane<CONFIG_T>(v, w.mask[l], w.values[l], w.lane_n_rows[l], bank[l], stats);
    }
MERGE:
    for (int r = 0; r < CONFIG_T::n_out; r++) {
#pragma HLS UNROLL
        y[r] = bank[w.row_lane[r]][w.row_slot[r]];
    }
#ifndef __SYNTHESIS__
    stats.cycles = stats.busiest_lane + MXV_DONE_DEPTH;
#endif
#endif
}

}  // namespace masr

#endif
