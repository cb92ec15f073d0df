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
#ifndef __SYNTHESIS__
    int words;  // words its encoding wrote or its load read (C simulation's figures: frame_words)
#endif
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
#ifndef __SYNTHESIS__
    out.words = mask_words(N) + nnz;
#endif
}

// ---------------------------------------------------------------------------
// Sequence storage between layers (docs/arithmetic.md, "Sequence storage").
//
// A sequence of up to MAX_T frames held compact, as the engine consumes a
// frame: its mask words and its non-zero values packed from slot 0, in index
// order.  Allocated for the worst case (every value non-zero) of the frames
// its producer outputs: the model's MAX_T, or 1 for a last-state output (a
// recurrent layer without return_sequences and the heads after it); readers
// and writers take the count from the type.  The declaring function
// partitions both arrays on dim 2 (one memory of MAX_T entries per mask word
// and per value slot) and binds them to block RAM, so a frame is one entry of
// each; a one-frame store is partitioned whole (registers).  Bases and nnz are
// popcounts of the mask words, not stored.
//
// A split store (NF > 0: a concat Bidirectional layer's output) keeps its
// forward NF values and its backward N - NF values apart, each a store of its
// own, so that the two sweeps (two DATAFLOW processes) write one each.
template <class T, int N, int MAX_T, int NF = 0>
struct compact_sequence {
    static_assert(0 < NF && NF < N, "a split store has two non-empty halves");
    compact_sequence<T, NF, MAX_T> fwd;
    compact_sequence<T, N - NF, MAX_T> bwd;
};

template <class T, int N, int MAX_T>
struct compact_sequence<T, N, MAX_T, 0> {
    mask_word_t mask[MAX_T][mask_words(N)];
    T values[MAX_T][N];
};

// Words a stored frame occupies, written or read: its mask words and its non-zeros.
template <class T, int N>
int frame_words(const compact_vector<T, N> &v) {
#ifndef __SYNTHESIS__
    return v.words;
#else
    return mask_words(N) + v.nnz;
#endif
}

// Frame t of a store into an engine's operand: mask word k and the values it
// covers in iteration k (the engine takes its operand one mask word per
// cycle), no encoding.
template <class T, int N, int MAX_T>
void load_frame(const compact_sequence<T, N, MAX_T> &s, int t, compact_vector<T, N> &out) {
    int nnz = 0;
LOAD_WORDS:
    for (int k = 0; k < mask_words(N); k++) {
#pragma HLS PIPELINE II = 1
        const mask_word_t word = s.mask[t][k];
        out.mask[k] = word;
        out.base[k] = nnz;
        const int count = popcount(word);
    LOAD_VALUES:
        for (int b = 0; b < MASK_BITS; b++) {
#pragma HLS UNROLL
            const int i = k * MASK_BITS + b;  // the slots of this word's values lie in [nnz, nnz + count)
            if (i < N) {
                const int slot = nnz + b;
                if (b < count && slot < N) out.values[slot] = s.values[t][slot];
            }
        }
        nnz += count;
    }
    out.nnz = nnz;
#ifndef __SYNTHESIS__
    out.words = mask_words(N) + nnz;
#endif
}

// Frame t of a split store into an engine's operand, in the consumer's index
// order: operand word k holds elements 32k..32k+31, taken from at most one
// forward and two backward stored words (a shift by NF mod 32, fixed at
// compile time; the halves have their own memories, so both are read in the
// same cycle), its values the forward half's non-zeros, then the backward
// half's.  mask words(N) iterations, as any load; the words read are both
// halves' mask words and the non-zeros.
template <class T, int N, int MAX_T, int NF>
void load_frame(const compact_sequence<T, N, MAX_T, NF> &s, int t, compact_vector<T, N> &out) {
    int nnz = 0, nf = 0, nb = 0;  // slots filled: of the operand, of each half
SPLIT_WORDS:
    for (int k = 0; k < mask_words(N); k++) {
#pragma HLS PIPELINE II = 1
        mask_word_t word = 0;
        out.base[k] = nnz;
    SPLIT_BITS:
        for (int b = 0; b < MASK_BITS; b++) {
#pragma HLS UNROLL
            const int i = k * MASK_BITS + b, j = i - NF;
            const bool forward = i < NF;
            const bool set = forward ? ((s.fwd.mask[t][i / MASK_BITS] >> (i % MASK_BITS)) & 1) != 0
                                     : i < N && ((s.bwd.mask[t][j / MASK_BITS] >> (j % MASK_BITS)) & 1) != 0;
            if (set) {
                word |= mask_word_t(1) << b;
                out.values[nnz++] = forward ? s.fwd.values[t][nf++] : s.bwd.values[t][nb++];
            }
        }
        out.mask[k] = word;
    }
    out.nnz = nnz;
#ifndef __SYNTHESIS__
    out.words = mask_words(NF) + mask_words(N - NF) + nnz;
#endif
}

// A produced frame into frame t of a store: the producer's write stage gives
// each output its mask bit and packed slot (a prefix count and the frame's
// running count), so the pack has no cycle of its own in the model.  Returns
// the words written (C simulation's figures).
template <class T, int N, int MAX_T, class in_T>
int store_frame(compact_sequence<T, N, MAX_T> &s, int t, const in_T x[N]) {
#pragma HLS INLINE
    int nnz = 0;
STORE_WORDS:
    for (int k = 0; k < mask_words(N); k++) {
#pragma HLS UNROLL
        mask_word_t word = 0;
        for (int b = 0; b < MASK_BITS; b++) {
#pragma HLS UNROLL
            const int i = k * MASK_BITS + b;
            if (i < N && x[i] != 0) {
                word |= mask_word_t(1) << b;
                s.values[t][nnz++] = T(x[i]);
            }
        }
        s.mask[t][k] = word;
    }
    return mask_words(N) + nnz;
}

// The same frame of a dense buffer (the model's output port, a layer's state
// sequence): a plain copy.
template <class T, int N, class in_T>
int store_frame(T (*s)[N], int t, const in_T x[N]) {
#pragma HLS INLINE
    for (int j = 0; j < N; j++) {
#pragma HLS UNROLL
        s[t][j] = T(x[j]);
    }
    return 0;
}

// Frame t of a dense source (the model's input port) as an engine operand:
// encoded on entry.  Returns the words the encoding wrote.
template <class T, int N>
int take_frame(const T (*x)[N], int t, compact_vector<T, N> &out) {
#pragma HLS INLINE
    encode_activations<T, N>(x[t], out);
    return frame_words(out);
}

// Frame t of a compact store (split or not): loaded, nothing encoded.
template <class T, int N, int MAX_T, int NF>
int take_frame(const compact_sequence<T, N, MAX_T, NF> &s, int t, compact_vector<T, N> &out) {
#pragma HLS INLINE
    load_frame(s, t, out);
    return 0;
}

// Dense frame t of a store (C simulation and tests: traces, testbenches).
template <class T, int N, int MAX_T>
void decode_frame(const compact_sequence<T, N, MAX_T> &s, int t, T x[N]) {
    int next = 0;
    for (int i = 0; i < N; i++) {
        const bool set = (s.mask[t][i / MASK_BITS] >> (i % MASK_BITS)) & 1;
        x[i] = set ? s.values[t][next] : T(0);
        next += set;
    }
}

// Dense frame t of a split store: the forward half, then the backward half.
template <class T, int N, int MAX_T, int NF>
void decode_frame(const compact_sequence<T, N, MAX_T, NF> &s, int t, T x[N]) {
    decode_frame(s.fwd, t, x);
    decode_frame(s.bwd, t, x + NF);
}

// Frames a source or destination of frames holds: a store's allocation, a
// dense array's first extent; DEFAULT for a pointer (a port or buffer passed
// as an array parameter, sized for the model's MAX_T).
template <class S, int DEFAULT>
struct frames_of {
    static const int value = DEFAULT;
};
template <class T, int N, int MAX_T, int NF, int DEFAULT>
struct frames_of<compact_sequence<T, N, MAX_T, NF>, DEFAULT> {
    static const int value = MAX_T;
};
template <class T, int F, int N, int DEFAULT>
struct frames_of<T[F][N], DEFAULT> {
    static const int value = F;
};

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
