// Moving ap_fixed values across the C boundary as raw two's-complement integers.
//
// The Python side (masr_hls.fixed_point) holds every value as int64 raw bits
// on the type's grid; these helpers reinterpret those bits without rounding.
#ifndef MASR_RAW_BITS_H
#define MASR_RAW_BITS_H

#include <stdint.h>
#include "ap_fixed.h"
#include "masr/fast_fixed.h"

namespace masr {

#ifndef __SYNTHESIS__
// The C boundary (testbenches, the ctypes bridge): C simulation only.
template <class T>
struct raw_access {
    static T from(int64_t raw) {
        T x;
        x.range(T::width - 1, 0) = (unsigned long long)raw;
        return x;
    }
};
#ifdef MASR_FAST_FIXED_ENABLED
template <int W, int I, ap_q_mode Q, ap_o_mode O, bool S>
struct raw_access<fast_fixed<W, I, Q, O, S> > {
    static fast_fixed<W, I, Q, O, S> from(int64_t raw) {
        fast_fixed<W, I, Q, O, S> x;
        x.v = fast_fixed<W, I, Q, O, S>::wrap((fast_wide_t)raw);
        return x;
    }
};
#endif

template <class T>
T from_raw(int64_t raw) {
    return raw_access<T>::from(raw);
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

#ifdef MASR_FAST_FIXED_ENABLED
template <int W, int I, ap_q_mode Q, ap_o_mode O, bool S>
int64_t to_raw(const fast_fixed<W, I, Q, O, S> &x) {
    return (int64_t)x.v;
}
#endif
#endif

// A ROM word: the raw bits of a T in the smallest built-in integer of its
// signedness.  Plain integers make constant arrays of millions of weights cheap
// to compile (an ap_fixed initialiser costs the compiler as much as a function),
// and synthesis reads them as ROM contents of the same width.
template <int W, bool S>
struct rom_storage {
    typedef typename rom_storage<(W <= 8 ? 8 : W <= 16 ? 16 : W <= 32 ? 32 : 64), S>::type type;
};
template <> struct rom_storage<8, true> { typedef int8_t type; };
template <> struct rom_storage<16, true> { typedef int16_t type; };
template <> struct rom_storage<32, true> { typedef int32_t type; };
template <> struct rom_storage<64, true> { typedef int64_t type; };
template <> struct rom_storage<8, false> { typedef uint8_t type; };
template <> struct rom_storage<16, false> { typedef uint16_t type; };
template <> struct rom_storage<32, false> { typedef uint32_t type; };
template <> struct rom_storage<64, false> { typedef uint64_t type; };

template <class T>
struct is_signed_type;
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct is_signed_type<ap_fixed<W, I, Q, O, N> > { static const bool value = true; };
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct is_signed_type<ap_ufixed<W, I, Q, O, N> > { static const bool value = false; };
template <int W>
struct is_signed_type<ap_int<W> > { static const bool value = true; };
template <int W>
struct is_signed_type<ap_uint<W> > { static const bool value = false; };
#ifdef MASR_FAST_FIXED_ENABLED
template <int W, int I, ap_q_mode Q, ap_o_mode O, bool S>
struct is_signed_type<fast_fixed<W, I, Q, O, S> > { static const bool value = S; };
#endif

template <class T>
struct rom_word {
    typename rom_storage<T::width, is_signed_type<T>::value>::type bits;
};

// Read a value whether it is held as a T or as a ROM word of T.
template <class T>
T rom_read(const rom_word<T> &w) {
#pragma HLS INLINE
    T x;
    x.range(T::width - 1, 0) = w.bits;
    return x;
}

#ifdef MASR_FAST_FIXED_ENABLED
// A fast_fixed ROM word is its raw value already (rom_storage sign- or zero-extends).
template <int W, int I, ap_q_mode Q, ap_o_mode O, bool S>
fast_fixed<W, I, Q, O, S> rom_read(const rom_word<fast_fixed<W, I, Q, O, S> > &w) {
    fast_fixed<W, I, Q, O, S> x;
    x.v = fast_fixed<W, I, Q, O, S>::wrap((fast_wide_t)w.bits);
    return x;
}
#endif

template <class T>
const T &rom_read(const T &x) {
#pragma HLS INLINE
    return x;
}

#ifndef __SYNTHESIS__
template <class T>
void array_from_raw(const int64_t *raw, T *out, int n) {
    for (int i = 0; i < n; i++) out[i] = from_raw<T>(raw[i]);
}

template <class T>
void array_from_raw(const int64_t *raw, rom_word<T> *out, int n) {
    typedef decltype(out[0].bits) bits_t;
    for (int i = 0; i < n; i++) out[i].bits = (bits_t)to_raw(from_raw<T>(raw[i]));
}

template <class T>
void array_to_raw(const T *in, int64_t *raw, int n) {
    for (int i = 0; i < n; i++) raw[i] = to_raw(in[i]);
}
#endif

}  // namespace masr

#endif
