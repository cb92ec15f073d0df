// Generated from masr_hls/constants.py by `masr_hls.constants.write_generated()`: edit that file, not this one.
#ifndef MASR_CONSTANTS_H
#define MASR_CONSTANTS_H

namespace masr {

static const int MASK_BITS = 32;  // bits of one bitmask word
static const int STATS_PER_DIRECTION = 12;  // stats block: a direction's figures
static const int STATS_BACKWARD = 12;  // stats block: where the backward direction's figures start
static const int STATS_LAYER_CYCLES = 24;  // stats block: the layer's cycles
static const int STATS_ENTRY_WRITTEN = 25;  // stats block: words the first layer wrote encoding its input on entry
static const int STATS_SEQ_READ = 26;  // stats block: words read from the layer's input sequence, every reader
static const int STATS_OUT_WRITTEN = 27;  // stats block: words written into the layer's output store
static const int STATS_PER_LAYER = 28;  // stats block: words per layer
static const int MXV_MAC_DEPTH = 2;  // stages after a back-end issue cycle: read + multiply, quantise + accumulate
static const int MXV_DONE_DEPTH = 1;  // the cycle after the last lane: results valid
static const int ENGINE_START_DEPTH = 1;  // the cycle an engine samples start, after its operand is encoded
static const int GATE_PIPELINE_DEPTH = 4;  // cycles after the last gate group issues
static const int SWEEP_START_DEPTH = 1;  // reading frame 0's address before the first kernel chain
static const int LAYER_DONE_DEPTH = 1;  // the cycle the layer signals done
static const int MERGE_PIPELINE_DEPTH = 2;  // Bidirectional merge: state read, merge unit
static const int HEAD_POST_DEPTH = 2;  // dense head: bias add; activation + output quantise
static const int SOFTMAX_ELEMENTWISE_DEPTH = 4;  // subtract + index, exp ROM, leading-one + inverse ROM, multiply + quantise

enum mxv_mode { MODE_DENSE = 0, MODE_WEIGHT_SPARSE = 1, MODE_MASR = 2 };
enum cell_kind { CELL_GRU = 0, CELL_LSTM = 1, CELL_SIMPLE_RNN = 2 };
enum cell_activation { ACT_TANH = 0, ACT_RELU = 1, ACT_SIGMOID = 2, ACT_HARD_SIGMOID = 3 };
enum merge_mode { MERGE_CONCAT = 0, MERGE_SUM = 1, MERGE_MUL = 2, MERGE_AVE = 3 };
enum head_activation { HEAD_LINEAR = 0, HEAD_RELU = 1, HEAD_SIGMOID = 2, HEAD_TANH = 3, HEAD_HARD_SIGMOID = 4 };

}  // namespace masr

#endif
