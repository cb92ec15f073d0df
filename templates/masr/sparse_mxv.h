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
// Run-time balancing (bank_lanes G > 1, docs/arithmetic.md "Run-time
// balancing"): G lanes share one bank of rows (slots heaviest first, each
// slot's first packed weight in slot_base).  Their front ends are one
// process (mxv_bank_front) that gives each lane the bank's next slot in the
// cycle the lane's front end is free; each lane keeps its FIFO and back end
// and its own result bank by slot, and y[r] adds the G banks at r's slot
// (the lanes that did not take it hold zero there).
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

#ifndef __SYNTHESIS__
// A lane's cycles into the busiest and idlest lane (idlest_lane starts at -1: none yet).
inline void note_lane_cycles(mxv_stats &stats, long long lane) {
    if (lane > stats.busiest_lane) stats.busiest_lane = lane;
    if (stats.idlest_lane < 0 || lane < stats.idlest_lane) stats.idlest_lane = lane;
}

// Where an engine call notes its banks' phases (docs/arithmetic.md, "Calls back to back on a shared engine"):
// per bank F (the cycle its front ends are free), B (the cycle its back ends have issued their last window) and
// its busiest lane's cycles.  Set around the recurrent engine calls of an interleaved sweep (rnn_cell.h), null
// otherwise.  The lanes note in lane order (bank b's lanes are b * group .. b * group + group - 1), in the
// dataflow engine and in its fast twin alike.
struct phase_sink {
    long long *front, *issue, *cycles;  // one entry per bank
    int group;                           // lanes per bank
    int lane;                            // lanes noted so far
};
inline phase_sink *&active_phase_sink() {
    static phase_sink *sink = 0;
    return sink;
}
inline void note_lane_phases(long long front, long long issue, long long cycles) {
    phase_sink *s = active_phase_sink();
    if (s == 0) return;
    const int b = s->lane / s->group;
    if (s->lane % s->group == 0) {
        s->front[b] = front;
        s->issue[b] = issue;
        s->cycles[b] = cycles;
    } else {
        if (front > s->front[b]) s->front[b] = front;
        if (issue > s->issue[b]) s->issue[b] = issue;
        if (cycles > s->cycles[b]) s->cycles[b] = cycles;
    }
    s->lane++;
}
#endif

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
    // Weight banks: one per lane, or under run-time balancing one per bank_lanes lanes.
    static const int BANKS = CONFIG_T::lanes / CONFIG_T::bank_lanes;
    // Back-end iterations: every window of every row at its worst, plus the end marker.
    static const int MAX_ISSUE = MAX_SCAN * ((WIN_BITS + CONFIG_T::macs_per_lane - 1) / CONFIG_T::macs_per_lane) + 1;
};

// Weights of one matrix (n_out x n_in) in bitmask form, by bank (one per lane,
// or one per bank_lanes lanes under run-time balancing); a ROM (values are
// held as raw ROM words, see raw_bits.h).  The members say "lane" for a bank.
template <class CONFIG_T>
struct sparse_weights {
    mask_word_t mask[mxv_shape<CONFIG_T>::BANKS][CONFIG_T::max_lane_rows][mask_words(CONFIG_T::n_in)];  // by bank and slot
    int lane_n_rows[mxv_shape<CONFIG_T>::BANKS];
    rom_word<typename CONFIG_T::weight_t> values[mxv_shape<CONFIG_T>::BANKS][CONFIG_T::max_lane_nnz];
    int row_lane[CONFIG_T::n_out];  // where each result row lives: its bank ...
    int row_slot[CONFIG_T::n_out];  // ... and slot
    int slot_base[mxv_shape<CONFIG_T>::BANKS][CONFIG_T::max_lane_rows];  // packed address of each slot's first weight
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
    int scan;  // the front-end iteration that found it, or (shared banks) the cycle it was examined; the end
               // marker: the lane's windows, or the cycle its shared front end stopped
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

// One window of a row as the front end examines it: the FIFO entry (its
// weight, issue and activation bits) and the row's weights in the window.
template <class CONFIG_T>
int examine_window(const mask_word_t act_mask[mxv_shape<CONFIG_T>::N_WORDS], const int act_base[mxv_shape<CONFIG_T>::N_WORDS],
                   const mask_word_t row[mxv_shape<CONFIG_T>::N_WORDS], int window, mxv_window<CONFIG_T> &e,
                   mask_word_t &any) {
#pragma HLS INLINE
    typedef mxv_shape<CONFIG_T> S;
    any = 0;
    int weights = 0;
    for (int k = 0; k < S::WIN_WORDS; k++) {
#pragma HLS UNROLL
        const int word = window * S::WIN_WORDS + k;
        const mask_word_t wm = word < S::N_WORDS ? row[word] : mask_word_t(0);
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
    e.act_base = act_base[window * S::WIN_WORDS];
    e.end = false;
    return weights;
}

// The entry that ends a lane's work; `scan` is what the back end's clock needs
// (the lane's scan count, or the cycle its shared front end stopped).
template <class CONFIG_T>
mxv_window<CONFIG_T> end_marker(int scan) {
#pragma HLS INLINE
    typedef mxv_shape<CONFIG_T> S;
    mxv_window<CONFIG_T> end;
    for (int k = 0; k < S::WIN_WORDS; k++) {
#pragma HLS UNROLL
        end.weights[k] = end.issue[k] = end.act[k] = 0;
    }
    end.slot = end.weight_base = end.act_base = 0;
    end.end = true;
#ifndef __SYNTHESIS__
    end.scan = scan;
#endif
    return end;
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
        mask_word_t any;
        const int weights = examine_window<CONFIG_T>(act_mask, act_base, mask[slot], window, e, any);
        e.slot = slot;
        e.weight_base = weight_base;
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
    fifo.write(end_marker<CONFIG_T>(n_scan));
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
    // The cycle a front end free in cycle t examines a window with work: it
    // stalls while the FIFO is full (until window n-D leaves it).
    long long examine_at(long long t) const { return (n >= depth && q[ring] > t) ? q[ring] : t; }
    // A window with work examined in cycle f, costing `c` back-end cycles.
    void window_at(long long f, long long c) {
        const long long leave = (n == 0 || issue_end - 1 < f) ? f : issue_end - 1;
        q[ring] = leave;
        issue_end = leave + 1 + c;
        n++;
        ring = ring + 1 == depth ? 0 : ring + 1;
    }
    // Window found by front-end iteration `scan` of a lane with rows of its own.
    void window(long long scan, long long c) {
        const long long f = examine_at(scan + offset);
        offset = f - scan;
        window_at(f, c);
    }
    // The lane's cycles, its front end free from cycle `front` on.
    long long cycles_after(long long front, int mac_depth) const {
        const long long back = n == 0 ? 0 : issue_end + mac_depth;
        return front > back ? front : back;
    }
    long long lane_cycles(long long n_scan, int mac_depth) const { return cycles_after(n_scan + offset, mac_depth); }
    long long issue_done() const { return n == 0 ? 0 : issue_end; }  // B of the lane: 0 without work
#endif
};

#ifndef __SYNTHESIS__
// Issue cycles of a window: ceil(bits to issue / K).
template <class CONFIG_T>
int window_cost(const mxv_window<CONFIG_T> &e) {
    typedef mxv_shape<CONFIG_T> S;
    int issued = 0;
    for (int k = 0; k < S::WIN_WORDS; k++) issued += popcount(e.issue[k]);
    return (issued + CONFIG_T::macs_per_lane - 1) / CONFIG_T::macs_per_lane;
}
#endif

// Run-time balancing: the front ends of the bank_lanes lanes sharing one bank,
// one iteration per cycle.  A lane whose front end is free takes the bank's
// next slot (lanes free in the same cycle take them in lane order, by a
// shared slot counter) and examines one window of that row per cycle into its
// own FIFO, stalling while the FIFO is full.  Every entry carries the cycle it
// was examined; each lane's end marker, the cycle its front end stopped.
template <class CONFIG_T>
void mxv_bank_front(const mask_word_t act_mask[mxv_shape<CONFIG_T>::N_WORDS], const int act_base[mxv_shape<CONFIG_T>::N_WORDS],
                    const mask_word_t mask[CONFIG_T::max_lane_rows][mxv_shape<CONFIG_T>::N_WORDS],
                    const int slot_base[CONFIG_T::max_lane_rows], int n_rows,
                    hls::stream<mxv_window<CONFIG_T> > fifo[CONFIG_T::bank_lanes]) {
    typedef mxv_shape<CONFIG_T> S;
    static const int G = CONFIG_T::bank_lanes;
    // The lanes read a window of different rows each cycle: a port per lane (dual-port for two).
#pragma HLS ARRAY_PARTITION variable = mask type = cyclic factor = S::WIN_WORDS dim = 2
#pragma HLS BIND_STORAGE variable = mask type = rom_np
    int slot[G], window[G], weight_base[G];
    bool busy[G], done[G];
#pragma HLS ARRAY_PARTITION variable = slot type = complete
#pragma HLS ARRAY_PARTITION variable = window type = complete
#pragma HLS ARRAY_PARTITION variable = weight_base type = complete
#pragma HLS ARRAY_PARTITION variable = busy type = complete
#pragma HLS ARRAY_PARTITION variable = done type = complete
#ifndef __SYNTHESIS__
    lane_clock clock[G];  // each FIFO's fill as the hardware sees it (full() is never true in C simulation)
#endif
    for (int g = 0; g < G; g++) {
#pragma HLS UNROLL
        busy[g] = done[g] = false;
#ifndef __SYNTHESIS__
        clock[g].start(CONFIG_T::fifo_depth);
#endif
    }
    int next_slot = 0, stopped = 0;
CYCLES:
    for (int cycle = 0; stopped < G; cycle++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = S::MAX_ISSUE
        for (int g = 0; g < G; g++) {
#pragma HLS UNROLL
            if (done[g]) continue;
            if (!busy[g]) {
                if (next_slot == n_rows) {
                    done[g] = true;
                    stopped++;
                    fifo[g].write(end_marker<CONFIG_T>(cycle));
                    continue;
                }
                slot[g] = next_slot++;
                window[g] = 0;
                weight_base[g] = slot_base[slot[g]];
                busy[g] = true;
            }
            mxv_window<CONFIG_T> e;
            mask_word_t any;
            const int weights = examine_window<CONFIG_T>(act_mask, act_base, mask[slot[g]], window[g], e, any);
            e.slot = slot[g];
            e.weight_base = weight_base[g];
            if (any != 0) {
#ifdef __SYNTHESIS__
                if (fifo[g].full()) continue;
#else
                if (clock[g].examine_at(cycle) > cycle) continue;  // the FIFO is full: try again next cycle
                clock[g].window_at(cycle, window_cost<CONFIG_T>(e));
                e.scan = cycle;
#endif
                fifo[g].write(e);
            }
            weight_base[g] += weights;
            if (++window[g] == S::WINDOWS) busy[g] = false;
        }
    }
}

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
                if (CONFIG_T::bank_lanes == 1) {
                    clock.window(head.scan, (issued + K - 1) / K);
                } else {
                    clock.window_at(head.scan, (issued + K - 1) / K);  // the cycle the shared front end examined it
                }
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
    // The end marker carries the lane's front-end scan count, or (shared banks) the cycle its front end stopped.
    const long long front = CONFIG_T::bank_lanes == 1 ? n_scan + clock.offset : n_scan;
    const long long lane = clock.cycles_after(front, MXV_MAC_DEPTH);
    note_lane_cycles(stats, lane);
    note_lane_phases(front, clock.issue_done(), lane);
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

// The lanes sharing one bank: their front ends (one process) -> a FIFO each ->
// a back end each, as a dataflow region.  Each back end keeps results by the
// bank's slot; a slot another lane took stays zero in its bank.
template <class CONFIG_T>
void mxv_shared_bank(const compact_vector<typename CONFIG_T::act_t, CONFIG_T::n_in> &v,
                     const mask_word_t mask[CONFIG_T::max_lane_rows][mxv_shape<CONFIG_T>::N_WORDS],
                     const rom_word<typename CONFIG_T::weight_t> values[CONFIG_T::max_lane_nnz],
                     const int slot_base[CONFIG_T::max_lane_rows], int n_rows,
                     typename CONFIG_T::accum_t bank[CONFIG_T::bank_lanes][CONFIG_T::max_lane_rows], mxv_stats &stats) {
#pragma HLS INLINE off
#pragma HLS DATAFLOW
    hls::stream<mxv_window<CONFIG_T> > fifo[CONFIG_T::bank_lanes];
#pragma HLS STREAM variable = fifo depth = CONFIG_T::fifo_depth
    mxv_bank_front<CONFIG_T>(v.mask, v.base, mask, slot_base, n_rows, fifo);
    for (int g = 0; g < CONFIG_T::bank_lanes; g++) {
#pragma HLS UNROLL
        mxv_back<CONFIG_T>(v.values, values, fifo[g], bank[g], stats);
    }
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
    static_assert(CONFIG_T::bank_lanes >= 1 && CONFIG_T::lanes % CONFIG_T::bank_lanes == 0, "bank_lanes divides lanes");
    static_assert(accum_t::omode == AP_WRAP, "accum_t must use AP_WRAP so that summation order cannot matter");
#ifdef MASR_MXV_CSIM_ENABLED
    sparse_mxv_csim<CONFIG_T>(v, w, y, stats);  // the dataflow engine below is not even instantiated
#else
#if defined(MASR_FAST_CSIM) && !defined(__SYNTHESIS__)
#error "a fast C simulation must run the engine's twin (mxv_csim.h): it was not defined before sparse_mxv()"
#endif

    typedef mxv_shape<CONFIG_T> S;
    static const int G = CONFIG_T::bank_lanes;
    // Every bank is its own ROM (see mxv_front and mxv_back), and the merge reads the whole row map at once.
#pragma HLS ARRAY_PARTITION variable = w.mask type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = w.values type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = w.slot_base type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = w.lane_n_rows type = complete
#pragma HLS ARRAY_PARTITION variable = w.row_lane type = complete
#pragma HLS ARRAY_PARTITION variable = w.row_slot type = complete
    clear_mxv_stats(stats);
#ifndef __SYNTHESIS__
    stats.idlest_lane = -1;
#endif
    accum_t bank[S::BANKS][G][CONFIG_T::max_lane_rows];
#pragma HLS ARRAY_PARTITION variable = bank type = complete dim = 0
    if (G == 1) {
    LANES:
        for (int l = 0; l < CONFIG_T::lanes; l++) {
#pragma HLS UNROLL
            mxv_lane<CONFIG_T>(v, w.mask[l], w.values[l], w.lane_n_rows[l], bank[l][0], stats);
        }
    } else {
    BANKS:
        for (int b = 0; b < S::BANKS; b++) {
#pragma HLS UNROLL
            mxv_shared_bank<CONFIG_T>(v, w.mask[b], w.values[b], w.slot_base[b], w.lane_n_rows[b], bank[b], stats);
        }
    }
    // With the weights fixed the row map is wiring; with shared banks a row's
    // slot was taken by one lane of its bank, and the others hold zero there.
MERGE:
    for (int r = 0; r < CONFIG_T::n_out; r++) {
#pragma HLS UNROLL
        accum_t sum = 0;
        for (int g = 0; g < G; g++) {
#pragma HLS UNROLL
            sum += bank[w.row_lane[r]][g][w.row_slot[r]];
        }
        y[r] = sum;
    }
#ifndef __SYNTHESIS__
    stats.cycles = stats.busiest_lane + MXV_DONE_DEPTH;
#endif
#endif
}

}  // namespace masr

#endif
