// Bitmask primitives shared by MASR's encoder and sparse engine.
//
// A mask word holds one bit per element (bit j of word k is element 32k+j).
// Popcount and lowest-set-bit are the front end's priority encoder; in C
// simulation they use the compiler's builtins for speed, in synthesis a
// plain loop that Vitis HLS unrolls into an adder tree / priority encoder.
#ifndef MASR_BITMASK_H
#define MASR_BITMASK_H

#include <stdint.h>

#include "masr/constants.h"

namespace masr {

typedef uint32_t mask_word_t;  // MASK_BITS wide

constexpr int mask_words(int n) { return n <= 0 ? 1 : (n + MASK_BITS - 1) / MASK_BITS; }

inline int popcount(mask_word_t w) {
#pragma HLS INLINE
#ifdef __SYNTHESIS__
    int c = 0;
    for (int b = 0; b < MASK_BITS; b++) {
#pragma HLS UNROLL
        c += (w >> b) & 1;
    }
    return c;
#else
    return __builtin_popcount(w);
#endif
}

inline int lowest_bit(mask_word_t w) {  // w != 0
#pragma HLS INLINE
#ifdef __SYNTHESIS__
    int pos = 0;
    for (int b = MASK_BITS - 1; b >= 0; b--) {
#pragma HLS UNROLL
        if ((w >> b) & 1) pos = b;
    }
    return pos;
#else
    return __builtin_ctz(w);
#endif
}

inline mask_word_t bits_below(int b) { return b >= MASK_BITS ? ~mask_word_t(0) : ((mask_word_t(1) << b) - 1); }

// Mask of the elements of word k that exist in a vector of n elements.
inline mask_word_t valid_bits(int k, int n) {
    int rest = n - k * MASK_BITS;
    return rest >= MASK_BITS ? ~mask_word_t(0) : (rest <= 0 ? mask_word_t(0) : bits_below(rest));
}

}  // namespace masr

#endif
