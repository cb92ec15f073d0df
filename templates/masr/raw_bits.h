// Moving ap_fixed values across the C boundary as raw two's-complement integers.
//
// The Python side (masr_hls.fixed_point) holds every value as int64 raw bits
// on the type's grid; these helpers reinterpret those bits without rounding.
#ifndef MASR_RAW_BITS_H
#define MASR_RAW_BITS_H

#include <stdint.h>
#include "ap_fixed.h"

namespace masr {

template <class T>
T from_raw(int64_t raw) {
    T x;
    x.range(T::width - 1, 0) = (unsigned long long)raw;
    return x;
}

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
int64_t to_raw(const ap_fixed<W, I, Q, O, N> &x) {
    ap_int<W> bits = x.range(W - 1, 0);
    return bits.to_int64();
}

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
int64_t to_raw(const ap_ufixed<W, I, Q, O, N> &x) {
    ap_uint<W> bits = x.range(W - 1, 0);
    return (int64_t)bits.to_uint64();
}

template <class T>
void array_from_raw(const int64_t *raw, T *out, int n) {
    for (int i = 0; i < n; i++) out[i] = from_raw<T>(raw[i]);
}

template <class T>
void array_to_raw(const T *in, int64_t *raw, int n) {
    for (int i = 0; i < n; i++) raw[i] = to_raw(in[i]);
}

}  // namespace masr

#endif
