// The arithmetic type policy: ap_fixed everywhere, except in a C simulation
// built with MASR_FAST_CSIM, where types that fit a native integer become
// masr::fast_fixed, an integer-backed twin of ap_fixed with exactly its values.
//
//   masr::fixed_t<W, I, Q, O>    ap_fixed<W, I, Q, O>  (or fast_fixed<W, I, Q, O, true>)
//   masr::ufixed_t<W, I, Q, O>   ap_ufixed<W, I, Q, O> (or fast_fixed<W, I, Q, O, false>)
//   masr::uint_t<W>              ap_uint<W>            (or fast_uint<W>)
//
// fast_fixed holds the raw two's-complement value (the value times 2^(W-I)) in
// an int64 (W <= 63, or 64 signed) or an __int128 (up to FAST_EXACT_MAX_W
// bits).  It implements what the kernels use, with ap_fixed's semantics
// (docs/arithmetic.md):
//   - construction from another fixed-point value (fast or ap_fixed), an
//     integer or a double: quantise (Q: all seven modes) then overflow
//     (O: AP_WRAP, AP_SAT, AP_SAT_ZERO, AP_SAT_SYM);
//   - +, -, * between fixed-point values: exact, in a type wide enough for the
//     exact result (as ap_fixed's operators are); results wider than
//     FAST_EXACT_MAX_W bits are computed in ap_fixed;
//   - compound assignments (+=, -=, *=: exact, then quantised into the left
//     operand's type), comparisons with fixed-point values and integers,
//     >> and << by an int on the raw bits (as ap_fixed's shift operators),
//     bit read/set with [], raw bits read with range(hi, lo);
//   - mixed expressions with an ap_fixed operand are computed in ap_fixed.
// Stored types are fast only up to FAST_STORE_MAX_W bits, so that products of
// two of them stay exact natively; wider types remain ap_fixed (the fallback).
// Synthesis (__SYNTHESIS__) and builds without MASR_FAST_CSIM see ap_fixed only.
#ifndef MASR_FAST_FIXED_H
#define MASR_FAST_FIXED_H

#include <stdint.h>
#include <string.h>

#include <type_traits>

#include "ap_fixed.h"

namespace masr {

template <bool S, int W, int I, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP>
struct ap_type {
    typedef ap_fixed<W, I, Q, O> type;
};
template <int W, int I, ap_q_mode Q, ap_o_mode O>
struct ap_type<false, W, I, Q, O> {
    typedef ap_ufixed<W, I, Q, O> type;
};

#if defined(MASR_FAST_CSIM) && !defined(__SYNTHESIS__)
#define MASR_FAST_FIXED_ENABLED 1

static const int FAST_STORE_MAX_W = 64;  // stored (named) types
static const int FAST_EXACT_MAX_W = 120;  // exact intermediate results

typedef __int128 fast_wide_t;

template <int W, int I, ap_q_mode Q, ap_o_mode O, bool S>
class fast_fixed;

template <class T>
struct is_fast_fixed : std::false_type {};
template <int W, int I, ap_q_mode Q, ap_o_mode O, bool S>
struct is_fast_fixed<fast_fixed<W, I, Q, O, S> > : std::true_type {};

// The type of an exact result of W bits: fast while it fits, else ap_fixed.
template <int W, int I, bool S>
struct exact_type {
    typedef typename std::conditional<(W <= FAST_EXACT_MAX_W), fast_fixed<W, I, AP_TRN, AP_WRAP, S>,
                                      typename ap_type<S, W, I>::type>::type type;
};

constexpr int fast_max(int a, int b) { return a > b ? a : b; }

template <int W, bool S>
struct fast_raw {
    typedef typename std::conditional<(W < 64 || (W == 64 && S)), int64_t, fast_wide_t>::type type;
};

// Bounds of the raw values of a W-bit type.
template <int W, bool S>
struct fast_bounds {
    static constexpr fast_wide_t max() { return S ? ((fast_wide_t)1 << (W - 1)) - 1 : ((fast_wide_t)1 << W) - 1; }
    static constexpr fast_wide_t min() { return S ? -((fast_wide_t)1 << (W - 1)) : 0; }
};

// Floor division of r by 2^d with rounding mode Q (d > 0).
template <ap_q_mode Q, class R>
inline R fast_round_shift(R r, int d) {
    const int dmax = (int)sizeof(R) * 8 - 2;  // |r| < 2^(bits - 2): every larger shift rounds alike
    if (d > dmax) d = dmax;
    const R q = r >> d;
    if (Q == AP_TRN) return q;
    const R rem = r - (q << d);  // in [0, 2^d)
    const R half = (R)1 << (d - 1);
    const bool neg = r < 0;
    bool up;
    switch (Q) {
        case AP_TRN_ZERO: up = neg && rem != 0; break;
        case AP_RND: up = rem >= half; break;
        case AP_RND_ZERO: up = rem > half || (rem == half && neg); break;
        case AP_RND_MIN_INF: up = rem > half; break;
        case AP_RND_INF: up = rem > half || (rem == half && !neg); break;
        case AP_RND_CONV: up = rem > half || (rem == half && (q & 1)); break;
        default: up = false;
    }
    return q + (R)up;
}

template <int W, int I, ap_q_mode Q, ap_o_mode O, bool S>
class fast_fixed {
   public:
    static const int width = W;
    static const int iwidth = I;
    static const ap_q_mode qmode = Q;
    static const ap_o_mode omode = O;
    static const bool sign_flag = S;
    static const int F = W - I;
    typedef typename fast_raw<W, S>::type raw_t;
    typedef typename ap_type<S, W, I, Q, O>::type ap_t;
    static_assert(W >= 1 && W <= FAST_EXACT_MAX_W, "fast_fixed width");

    raw_t v;  // the raw value, always within the type's range

    fast_fixed() : v(0) {}

    // Quantise (Q) then overflow (O) a raw value r on a grid of F2 fractional
    // bits, of a W2-bit type of signedness S2.
    template <int W2, int F2, bool S2, class R>
    static raw_t convert(R r) {
        constexpr int D = F2 - F;  // > 0: drop D fraction bits
        constexpr int I2 = W2 - F2;
        constexpr bool ROUND_UP = D > 0 && Q != AP_TRN && Q != AP_TRN_ZERO;
        // No value of the source can overflow: the conversion is a shift.
        constexpr bool SAFE =
            (D <= 0 ? (I2 - S2 <= I - S && (!S2 || (S && I2 <= I)))
                   : ((ROUND_UP ? I2 - S2 < I - S : I2 - S2 <= I - S) && I2 - S2 + F >= 0 &&
                      (!S2 || (S && I2 <= I && I2 - 1 + F >= 0)))) &&
            !(O == AP_SAT_SYM && S2);  // AP_SAT_SYM maps the minimum itself to -max
        if (D == 0 && SAFE) return (raw_t)r;
        if (D < 0) {
            constexpr int L = D < 0 ? -D : 0;
            if (SAFE) {
                typedef typename std::conditional<(W2 + L <= 63), int64_t, fast_wide_t>::type calc_t;
                return (raw_t)((calc_t)r << L);
            }
            return fit_shifted_up((fast_wide_t)r, L);
        }
        typedef typename std::conditional<(W2 <= 60), int64_t, fast_wide_t>::type calc_t;
        const calc_t q = D > 0 ? fast_round_shift<Q, calc_t>((calc_t)r, D) : (calc_t)r;
        if (SAFE) return (raw_t)q;
        return fit((fast_wide_t)q);
    }

    // Overflow handling of the exact raw value w * 2^L (|w| < 2^120, L > 0).
    static raw_t fit_shifted_up(fast_wide_t w, int L) {
        if (O == AP_WRAP) {
            if (L >= 127) return 0;
            return wrap((fast_wide_t)((unsigned __int128)w << L));
        }
        const int LC = L > 126 ? 126 : L;  // larger shifts bound alike
        const fast_wide_t hi = fast_bounds<W, S>::max() >> LC;
        const fast_wide_t lo = -((-fast_bounds<W, S>::min()) >> LC);  // ceil(min / 2^L)
        if (w > hi) return overflow_high();
        if (w < lo) return overflow_low();
        return sat_sym_clip((fast_wide_t)((unsigned __int128)w << L));
    }

    // A double as ap_fixed reads it: the signed 54-bit mantissa m (the
    // implicit one always set, so subnormals, infinities and NaNs too are
    // read as 1.f * 2^e) on a grid of 52 - e fractional bits, quantised and
    // overflowed as from any signed fixed-point value.  Zero of either sign is 0.
    static raw_t from_double(double d) {
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        if ((bits << 1) == 0) return 0;
        const int e = (int)((bits >> 52) & 0x7ff) - 1023;
        const int64_t mag = (int64_t)((bits & ((1ULL << 52) - 1)) | (1ULL << 52));
        const int64_t m = (bits >> 63) ? -mag : mag;
        const int D = (52 - e) - F;  // > 0: drop D fraction bits
        if (D > 0) return fit(fast_round_shift<Q, fast_wide_t>((fast_wide_t)m, D));
        if (D == 0) return fit((fast_wide_t)m);
        return fit_shifted_up((fast_wide_t)m, -D);
    }

    // 2^-F, exactly (a power of two within double's range).
    static constexpr double lsb() {
        double x = 1.0;
        for (int i = 0; i < (F > 0 ? F : -F); i++) x *= 2.0;
        return F > 0 ? 1.0 / x : x;
    }

    // Overflow handling of an exact raw value on this grid.
    static raw_t fit(fast_wide_t q) {
        if (O == AP_WRAP) return wrap(q);
        if (q > fast_bounds<W, S>::max()) return overflow_high();
        if (q < fast_bounds<W, S>::min()) return overflow_low();
        return sat_sym_clip(q);
    }
    static raw_t wrap(fast_wide_t q) {
        if (W <= 64) {  // the low W bits, sign- or zero-extended, in native 64-bit arithmetic
            const uint64_t u = (uint64_t)q << (64 - W);
            return S ? (raw_t)((int64_t)u >> (64 - W)) : (raw_t)(u >> (64 - W));
        }
        if (W >= 128) return (raw_t)q;
        const unsigned __int128 mask = (((unsigned __int128)1) << W) - 1;
        unsigned __int128 u = (unsigned __int128)q & mask;
        if (S && ((u >> (W - 1)) & 1)) return (raw_t)((fast_wide_t)u - ((fast_wide_t)1 << (W - 1)) - ((fast_wide_t)1 << (W - 1)));
        return (raw_t)(fast_wide_t)u;
    }
    static raw_t overflow_high() {
        if (O == AP_SAT_ZERO) return 0;
        return (raw_t)fast_bounds<W, S>::max();
    }
    static raw_t overflow_low() {
        if (O == AP_SAT_ZERO) return 0;
        if (O == AP_SAT_SYM && S && W > 1) return (raw_t)-fast_bounds<W, S>::max();
        return (raw_t)fast_bounds<W, S>::min();
    }
    static raw_t sat_sym_clip(fast_wide_t q) {
        if (O == AP_SAT_SYM && S && W > 1 && q < -fast_bounds<W, S>::max()) return (raw_t)-fast_bounds<W, S>::max();
        return (raw_t)q;
    }

    template <int W2, int I2, ap_q_mode Q2, ap_o_mode O2, bool S2>
    fast_fixed(const fast_fixed<W2, I2, Q2, O2, S2> &x) : v(convert<W2, W2 - I2, S2>(x.v)) {}

    template <int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2>
    fast_fixed(const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &x) {
        const ap_t t = x;  // ap_fixed quantises
        v = from_ap(t);
    }

    template <class T, typename std::enable_if<std::is_integral<T>::value, int>::type = 0>
    fast_fixed(T i) : v(convert<(std::is_signed<T>::value ? 64 : 65), 0, true>((fast_wide_t)i)) {}

    fast_fixed(double d) : v(from_double(d)) {}
    fast_fixed(float d) : v(from_double(d)) {}  // as ap_fixed: through the exact double

    static raw_t from_ap(const ap_t &t) {
        if constexpr (W <= 64) {
            if (S) return (raw_t)ap_int<W>(t.range(W - 1, 0)).to_int64();
            return (raw_t)ap_uint<W>(t.range(W - 1, 0)).to_uint64();
        } else {
        const ap_int<W + 1> all = S ? ap_int<W + 1>(ap_int<W>(t.range(W - 1, 0))) : ap_int<W + 1>(ap_uint<W>(t.range(W - 1, 0)));
        const unsigned long long lo = ap_uint<64>(all.range(63, 0)).to_uint64();
        const long long hi = ap_int<W + 1 - 64>(all.range(W, 64)).to_int64();
        return (raw_t)(((fast_wide_t)hi << 64) | (fast_wide_t)lo);
        }
    }

    // The same value as an ap_fixed of this type.
    ap_t to_ap() const {
        ap_t t;
        if constexpr (W <= 64) {
            t.range(W - 1, 0) = (unsigned long long)(int64_t)v;
        } else {
            ap_uint<(W > 64 ? W : 65)> bits = (unsigned long long)(uint64_t)((fast_wide_t)v >> 64);
            bits <<= 64;
            bits |= (unsigned long long)(uint64_t)(fast_wide_t)v;
            t.range(W - 1, 0) = bits.range(W - 1, 0);
        }
        return t;
    }
    template <int W2, int I2, ap_q_mode Q2, ap_o_mode O2, int N2>
    operator ap_fixed<W2, I2, Q2, O2, N2>() const {
        return ap_fixed<W2, I2, Q2, O2, N2>(to_ap());
    }
    template <int W2, int I2, ap_q_mode Q2, ap_o_mode O2, int N2>
    operator ap_ufixed<W2, I2, Q2, O2, N2>() const {
        return ap_ufixed<W2, I2, Q2, O2, N2>(to_ap());
    }

    // Rounded to nearest, ties to even, as ap_fixed's to_double and to_float
    // round the raw value (the conversion of an integer rounds so; the scaling
    // by a power of two is exact).
    double to_double() const { return (double)v * lsb(); }
    float to_float() const { return (float)((float)v * lsb()); }

    // Raw bits hi..lo (at most 64 of them), as ap_fixed's range() reads them.
    unsigned long long range(int hi, int lo) const {
        const unsigned __int128 u = (unsigned __int128)(fast_wide_t)v >> lo;
        const int n = hi - lo + 1;
        return n >= 64 ? (unsigned long long)u : (unsigned long long)(u & ((((unsigned __int128)1) << n) - 1));
    }

    struct bit_ref {
        fast_fixed &x;
        int b;
        operator bool() const { return ((fast_wide_t)x.v >> b) & 1; }
        bit_ref &operator=(bool set) {
            unsigned __int128 u = (unsigned __int128)(fast_wide_t)x.v;
            const unsigned __int128 m = (unsigned __int128)1 << b;
            u = set ? (u | m) : (u & ~m);
            x.v = wrap((fast_wide_t)u);
            return *this;
        }
        bit_ref &operator=(int set) { return *this = (set != 0); }
    };
    bit_ref operator[](int b) { return bit_ref{*this, b}; }
    bool operator[](int b) const { return ((fast_wide_t)v >> b) & 1; }

    // ap_fixed's shifts move the raw bits within the type.
    fast_fixed operator>>(int sh) const {
        fast_fixed r;
        if (sh < 0) return *this << -sh;
        r.v = sh >= W ? (raw_t)(v < 0 ? -1 : 0) : (raw_t)(v >> sh);
        return r;
    }
    fast_fixed operator<<(int sh) const {
        fast_fixed r;
        if (sh < 0) return *this >> -sh;
        r.v = sh >= W ? 0 : wrap((fast_wide_t)((unsigned __int128)(fast_wide_t)v << sh));
        return r;
    }
    fast_fixed &operator>>=(int sh) { return *this = *this >> sh; }
    fast_fixed &operator<<=(int sh) { return *this = *this << sh; }

    template <class T>
    fast_fixed &operator+=(const T &x) { return *this = fast_fixed(*this + x); }
    template <class T>
    fast_fixed &operator-=(const T &x) { return *this = fast_fixed(*this - x); }
    template <class T>
    fast_fixed &operator*=(const T &x) { return *this = fast_fixed(*this * x); }

    typename exact_type<W + 1, I + 1, true>::type operator-() const {
        typename exact_type<W + 1, I + 1, true>::type r;
        r.v = -(typename exact_type<W + 1, I + 1, true>::type::raw_t)v;
        return r;
    }
};

// ---------------------------------------------------------------- arithmetic
template <int W1, int I1, bool S1, int W2, int I2, bool S2>
struct fast_sum_shape {
    static const int F = fast_max(W1 - I1, W2 - I2);
    static const int I = fast_max(I1 + (S2 && !S1), I2 + (S1 && !S2)) + 1;
    static const bool S = S1 || S2;
    // a - b is signed, one more integer bit when an operand is unsigned.
    static const int I_MINUS = fast_max(I1 + !S1, I2 + !S2) + 1;
};

#define MASR_FAST_ARGS(n) int W##n, int I##n, ap_q_mode Q##n, ap_o_mode O##n, bool S##n
#define MASR_FAST_T(n) fast_fixed<W##n, I##n, Q##n, O##n, S##n>

template <class R, int F1, int F2, class A, class B>
inline void fast_align(const A &a, const B &b, R &x, R &y) {
    constexpr int F = F1 > F2 ? F1 : F2;
    x = (R)a << (F - F1);
    y = (R)b << (F - F2);
}

template <MASR_FAST_ARGS(1), MASR_FAST_ARGS(2)>
inline auto operator+(const MASR_FAST_T(1) & a, const MASR_FAST_T(2) & b) {
    typedef fast_sum_shape<W1, I1, S1, W2, I2, S2> SH;
    typedef typename exact_type<SH::I + SH::F, SH::I, SH::S>::type res_t;
    if constexpr (is_fast_fixed<res_t>::value) {
        res_t r;
        typename res_t::raw_t x, y;
        fast_align<typename res_t::raw_t, W1 - I1, W2 - I2>(a.v, b.v, x, y);
        r.v = x + y;
        return r;
    } else {
        return res_t(a.to_ap() + b.to_ap());
    }
}

template <MASR_FAST_ARGS(1), MASR_FAST_ARGS(2)>
inline auto operator-(const MASR_FAST_T(1) & a, const MASR_FAST_T(2) & b) {
    typedef fast_sum_shape<W1, I1, S1, W2, I2, S2> SH;
    typedef typename exact_type<SH::I_MINUS + SH::F, SH::I_MINUS, true>::type res_t;
    if constexpr (is_fast_fixed<res_t>::value) {
        res_t r;
        typename res_t::raw_t x, y;
        fast_align<typename res_t::raw_t, W1 - I1, W2 - I2>(a.v, b.v, x, y);
        r.v = x - y;
        return r;
    } else {
        return res_t(a.to_ap() - b.to_ap());
    }
}

template <MASR_FAST_ARGS(1), MASR_FAST_ARGS(2)>
inline auto operator*(const MASR_FAST_T(1) & a, const MASR_FAST_T(2) & b) {
    typedef typename exact_type<W1 + W2, I1 + I2, S1 || S2>::type res_t;
    if constexpr (is_fast_fixed<res_t>::value) {
        res_t r;
        r.v = (typename res_t::raw_t)a.v * (typename res_t::raw_t)b.v;
        return r;
    } else {
        return res_t(a.to_ap() * b.to_ap());
    }
}

// Comparisons: exact, on a common grid.
template <MASR_FAST_ARGS(1), MASR_FAST_ARGS(2)>
inline int fast_compare(const MASR_FAST_T(1) & a, const MASR_FAST_T(2) & b) {
    constexpr int F1 = W1 - I1, F2 = W2 - I2;
    constexpr int F = F1 > F2 ? F1 : F2;
    if constexpr (F1 == F2 && W1 <= 64 && W2 <= 64) {
        const int64_t x = (int64_t)a.v, y = (int64_t)b.v;
        return (x > y) - (x < y);
    } else if constexpr (fast_max(W1 + F - F1, W2 + F - F2) <= 126) {
        fast_wide_t x, y;
        fast_align<fast_wide_t, F1, F2>(a.v, b.v, x, y);
        return (x > y) - (x < y);
    } else {
        const auto x = a.to_ap(), y = b.to_ap();
        return (x > y) - (x < y);
    }
}

// Mixed with an ap_fixed operand: computed in ap_fixed.
#define MASR_FAST_WITH_AP(op)                                                                 \
    template <MASR_FAST_ARGS(1), int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2> \
    inline auto operator op(const MASR_FAST_T(1) & a, const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &b) { \
        return a.to_ap() op b;                                                                \
    }                                                                                         \
    template <MASR_FAST_ARGS(1), int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2> \
    inline auto operator op(const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &b, const MASR_FAST_T(1) & a) { \
        return b op a.to_ap();                                                                \
    }

#define MASR_FAST_CMP(op)                                                                     \
    template <MASR_FAST_ARGS(1), MASR_FAST_ARGS(2)>                                           \
    inline bool operator op(const MASR_FAST_T(1) & a, const MASR_FAST_T(2) & b) {             \
        return fast_compare(a, b) op 0;                                                       \
    }                                                                                         \
    template <MASR_FAST_ARGS(1), class T, typename std::enable_if<std::is_integral<T>::value, int>::type = 0> \
    inline bool operator op(const MASR_FAST_T(1) & a, T i) {                                  \
        return fast_compare(a, fast_fixed<65, 65, AP_TRN, AP_WRAP, true>(i)) op 0;           \
    }                                                                                         \
    template <MASR_FAST_ARGS(1), class T, typename std::enable_if<std::is_integral<T>::value, int>::type = 0> \
    inline bool operator op(T i, const MASR_FAST_T(1) & a) {                                  \
        return fast_compare(fast_fixed<65, 65, AP_TRN, AP_WRAP, true>(i), a) op 0;           \
    }                                                                                         \
    MASR_FAST_WITH_AP(op)
MASR_FAST_CMP(==)
MASR_FAST_CMP(!=)
MASR_FAST_CMP(<)
MASR_FAST_CMP(<=)
MASR_FAST_CMP(>)
MASR_FAST_CMP(>=)
#undef MASR_FAST_CMP

#define MASR_FAST_MIXED(op)                                                                   \
    MASR_FAST_WITH_AP(op)                                                                     \
    template <MASR_FAST_ARGS(1), int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2> \
    inline ap_fixed_base<W2, I2, S2, Q2, O2, N2> &operator op##=(ap_fixed_base<W2, I2, S2, Q2, O2, N2> &b, const MASR_FAST_T(1) & a) { \
        return b op## = a.to_ap();                                                            \
    }
MASR_FAST_MIXED(+)
MASR_FAST_MIXED(-)
MASR_FAST_MIXED(*)
#undef MASR_FAST_MIXED
#undef MASR_FAST_WITH_AP

#undef MASR_FAST_ARGS
#undef MASR_FAST_T

// Unsigned raw bits of at most 64: what the kernels shift to index tables.
template <int W>
struct fast_uint {
    unsigned long long v;
    static unsigned long long mask(unsigned long long x) { return W >= 64 ? x : (x & ((1ULL << (W >= 64 ? 0 : W)) - 1)); }
    fast_uint(unsigned long long x = 0) : v(mask(x)) {}
    fast_uint &operator<<=(int s) {
        v = s >= 64 ? 0 : mask(v << s);
        return *this;
    }
    fast_uint &operator>>=(int s) {
        v = s >= 64 ? 0 : v >> s;
        return *this;
    }
    unsigned to_uint() const { return (unsigned)v; }
    unsigned long long to_uint64() const { return v; }
};

template <int W, int I, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP>
using fixed_t = typename std::conditional<(W <= FAST_STORE_MAX_W), fast_fixed<W, I, Q, O, true>, ap_fixed<W, I, Q, O> >::type;
template <int W, int I, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP>
using ufixed_t = typename std::conditional<(W <= FAST_STORE_MAX_W), fast_fixed<W, I, Q, O, false>, ap_ufixed<W, I, Q, O> >::type;
template <int W>
using uint_t = typename std::conditional<(W <= 64), fast_uint<W>, ap_uint<W> >::type;

#else

template <int W, int I, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP>
using fixed_t = ap_fixed<W, I, Q, O>;
template <int W, int I, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP>
using ufixed_t = ap_ufixed<W, I, Q, O>;
template <int W>
using uint_t = ap_uint<W>;

#endif

}  // namespace masr

#endif
