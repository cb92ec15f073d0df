// MASR's compact activation storage: a fixed-point vector becomes a bitmask
// plus its non-zero values packed in index order.  Zeros cost one bit.
#ifndef MASR_ACTIVATION_ENCODER_H
#define MASR_ACTIVATION_ENCODER_H

#include "masr/bitmask.h"

namespace masr {

// A vector of N values of type T in compact form.  `values` is sized for the
// dense worst case; only the first `nnz` entries are meaningful.  base[k] is
// the packed address of word k's first non-zero (the popcount of the words
// before it), so an engine window finds its activations without counting.
// Every instance is declared with its three arrays completely partitioned
// (registers): the encoder writes up to 32 values per cycle at run-time
// addresses, and every lane of an engine reads WIN mask words, a base and K
// values per cycle at run-time addresses.
template <class T, int N>
struct compact_vector {
    mask_word_t mask[mask_words(N)];
    int base[mask_words(N)];
    T values[N];
    int nnz;
};

// Elements encoded per cycle: the encoder keeps pace with one mask word per cycle.
static const int ENCODER_WIDTH = MASK_BITS;

// Cycles of one encoding: one iteration of the II=1 loop per mask word.
constexpr int encode_cycles(int n) { return mask_words(n); }

// Encode `x`: one mask word (32 elements) per iteration.
template <class T, int N>
void encode_activations(const T x[N], compact_vector<T, N> &out) {
    int nnz = 0;
WORDS:
    for (int k = 0; k < mask_words(N); k++) {
#pragma HLS PIPELINE II = 1
        mask_word_t word = 0;
        out.base[k] = nnz;
    BITS:
        for (int b = 0; b < MASK_BITS; b++) {
#pragma HLS UNROLL
            int i = k * MASK_BITS + b;
            if (i < N && x[i] != 0) {
                word |= mask_word_t(1) << b;
                out.values[nnz++] = x[i];
            }
        }
        out.mask[k] = word;
    }
    out.nnz = nnz;
}

template <class T, int N>
void decode_activations(const compact_vector<T, N> &in, T x[N]) {
    int next = 0;
    for (int i = 0; i < N; i++) {
#pragma HLS PIPELINE II = 1
        bool set = (in.mask[i / MASK_BITS] >> (i % MASK_BITS)) & 1;
        x[i] = set ? in.values[next] : T(0);
        next += set;
    }
}

}  // namespace masr

#endif
