// Weights loaded at run time, in C simulation only.
//
// A generated project defines its weights as ROM initialisers; its C simulation
// declares the same structs without them (lane banks sized for any weights of
// the layer's shape) and fills them from the words Python writes
// (masr_hls.backend.cpp_render: sparse_words, Rom.words), in member order.  So
// the compiled library depends on the model's shape and settings only, and
// every pruning of one shape shares it.
#ifndef MASR_CSIM_WEIGHTS_H
#define MASR_CSIM_WEIGHTS_H

#ifndef __SYNTHESIS__
#include <stdint.h>

#include "masr/mxv_csim.h"
#include "masr/raw_bits.h"
#include "masr/rnn_cell.h"
#include "masr/sparse_mxv.h"

namespace masr {

// Reads words in order; any word past the end or count out of range marks the load failed.
class word_reader {
  public:
    word_reader(const int64_t *words, int64_t n) : next_(words), end_(words + n), failed_(false) {}

    int64_t word() {
        if (next_ == end_) {
            failed_ = true;
            return 0;
        }
        return *next_++;
    }

    // A count of what follows, at most `room`.
    int count(int room) {
        const int64_t n = word();
        if (n < 0 || n > room) {
            failed_ = true;
            return 0;
        }
        return (int)n;
    }

    // Every word read, none missing: the words were written for these structs.
    bool exact() const { return !failed_ && next_ == end_; }

  private:
    const int64_t *next_;
    const int64_t *end_;
    bool failed_;
};

template <class T, int N>
void load_words(word_reader &r, rom_word<T> (&rom)[N]) {
    typedef decltype(rom[0].bits) bits_t;
    for (int i = 0; i < N; i++) rom[i].bits = (bits_t)r.word();
}

// Per bank: its rows, their masks, its weight count, its packed weights; then the row places.  Entries past
// a bank's rows and weights keep what they held: the engine never reads them.  Each slot's first packed weight
// follows from the masks.
template <class CONFIG_T>
void load_words(word_reader &r, sparse_weights<CONFIG_T> &w) {
    typedef decltype(w.values[0][0].bits) bits_t;
    static const int WORDS = mask_words(CONFIG_T::n_in);
    for (int l = 0; l < mxv_shape<CONFIG_T>::BANKS; l++) {
        w.lane_n_rows[l] = r.count(CONFIG_T::max_lane_rows);
        int base = 0;
        for (int slot = 0; slot < w.lane_n_rows[l]; slot++) {
            w.slot_base[l][slot] = base;
            for (int k = 0; k < WORDS; k++) {
                w.mask[l][slot][k] = (mask_word_t)r.word();
                base += popcount(w.mask[l][slot][k]);
            }
        }
        const int nnz = r.count(CONFIG_T::max_lane_nnz);
        for (int i = 0; i < nnz; i++) w.values[l][i].bits = (bits_t)r.word();
    }
    for (int row = 0; row < CONFIG_T::n_out; row++) w.row_lane[row] = (int)r.word();
    for (int row = 0; row < CONFIG_T::n_out; row++) w.row_slot[row] = (int)r.word();
}

template <class CONFIG_T>
void load_words(word_reader &r, rnn_weights<CONFIG_T> &w) {
    load_words(r, w.kernel);
    load_words(r, w.recurrent);
    load_words(r, w.recurrent_h);
    load_words(r, w.bias);
    load_words(r, w.recurrent_bias);
    load_words(r, w.act_table);
    load_words(r, w.rec_table);
}

}  // namespace masr
#endif
#endif
