// Activation functions of the RNN cells and heads, for any exact ap_fixed input.
//
// The caller passes exact, full-width sums; each function quantises once, into
// its output type.  LUT tables (sigmoid, tanh) are made by
// masr_hls.activations and passed in as ROM contents, so C++ and the numpy
// reference read identical entries.  No floating point, no division.
#ifndef MASR_ACTIVATION_H
#define MASR_ACTIVATION_H

#include "ap_fixed.h"
#include "masr/raw_bits.h"

namespace masr {

// Table of 2^N_LOG2 entries covering [-2^R_LOG2, 2^R_LOG2):
// index = floor((x + R) * N / (2R)), clamped to [0, N-1].
// The table holds out_T values, or ROM words of them.
template <int N_LOG2, int R_LOG2, class in_T, class out_T, class entry_T>
out_T lut_activation(const in_T &x, const entry_T table[1 << N_LOG2]) {
#pragma HLS INLINE
    static const int F_IN = in_T::width - in_T::iwidth;
    static const int F_OFF = F_IN > -R_LOG2 ? F_IN : -R_LOG2;                       // R is on the grid
    static const int I_OFF = (in_T::iwidth > R_LOG2 + 2 ? in_T::iwidth : R_LOG2 + 2) + 2;  // signed x + R never overflows
    static const int W_OFF = I_OFF + F_OFF;
    static const int SHIFT = F_OFF + R_LOG2 + 1 - N_LOG2;  // raw bits per bin, as a power of two
    typedef fixed_t<W_OFF, I_OFF> off_t;

    off_t r_val = 0;
    r_val[F_OFF + R_LOG2] = 1;  // exactly 2^R_LOG2
    const off_t offset = off_t(x) + r_val;
    if (offset < 0) return rom_read(table[0]);
    if (offset >= r_val + r_val) return rom_read(table[(1 << N_LOG2) - 1]);
    // Wide enough for a left shift when a bin is finer than x's LSB.
    static const int UP = SHIFT < 0 ? -SHIFT : 0, DOWN = SHIFT > 0 ? SHIFT : 0;
    uint_t<W_OFF + UP> raw = offset.range(W_OFF - 1, 0);
    raw <<= UP;
    raw >>= DOWN;
    return rom_read(table[raw.to_uint()]);
}

// Keras 3 hard_sigmoid: clip(x / 6 + 1/2, 0, 1), the slope held with 18 fractional bits.
static const int HARD_SIGMOID_SLOPE_FRAC = 18;

template <class in_T, class out_T>
out_T hard_sigmoid(const in_T &x) {
#pragma HLS INLINE
    // round(2^18 / 6) / 2^18, exact as a double.  masr types, so that the fast C simulation stays native.
    const ufixed_t<HARD_SIGMOID_SLOPE_FRAC, 0> slope = (double)(((1u << HARD_SIGMOID_SLOPE_FRAC) + 3) / 6) /
                                                       (double)(1u << HARD_SIGMOID_SLOPE_FRAC);
    const ufixed_t<1, 0> half = 0.5;
    const ufixed_t<1, 1> one = 1;
    const auto y = x * slope + half;  // exact
    if (y < 0) return out_T(0);
    if (y > one) return out_T(one);
    return out_T(y);
}

template <class in_T, class out_T>
out_T relu(const in_T &x) {
#pragma HLS INLINE
    return x > 0 ? out_T(x) : out_T(0);
}

template <class in_T, class out_T>
out_T linear(const in_T &x) {
#pragma HLS INLINE
    return out_T(x);
}

}  // namespace masr

#endif
