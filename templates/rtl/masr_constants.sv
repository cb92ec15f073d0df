// Generated from masr_hls/constants.py by `masr_hls.constants.write_generated()`: edit that file, not this one.
package masr_constants;
  /* verilator lint_off UNUSEDPARAM */  // a module uses some of them
  localparam int MASK_BITS = 32;  // bits of one bitmask word
  localparam int STATS_PER_DIRECTION = 12;  // stats block: a direction's figures
  localparam int STATS_BACKWARD = 12;  // stats block: where the backward direction's figures start
  localparam int STATS_LAYER_CYCLES = 24;  // stats block: the layer's cycles
  localparam int STATS_ENTRY_WRITTEN = 25;  // stats block: words the first layer wrote encoding its input on entry
  localparam int STATS_SEQ_READ = 26;  // stats block: words read from the layer's input sequence, every reader
  localparam int STATS_OUT_WRITTEN = 27;  // stats block: words written into the layer's output store
  localparam int STATS_PER_LAYER = 28;  // stats block: words per layer
  localparam int MXV_MAC_DEPTH = 2;  // stages after a back-end issue cycle: read + multiply, quantise + accumulate
  localparam int MXV_DONE_DEPTH = 1;  // the cycle after the last lane: results valid
  localparam int ENGINE_START_DEPTH = 1;  // the cycle an engine samples start, after its operand is encoded
  localparam int GATE_PIPELINE_DEPTH = 4;  // cycles after the last gate group issues
  localparam int SWEEP_START_DEPTH = 1;  // reading frame 0's address before the first kernel chain
  localparam int LAYER_DONE_DEPTH = 1;  // the cycle the layer signals done
  localparam int MERGE_PIPELINE_DEPTH = 2;  // Bidirectional merge: state read, merge unit
  localparam int HEAD_POST_DEPTH = 2;  // dense head: bias add; activation + output quantise
  localparam int SOFTMAX_ELEMENTWISE_DEPTH = 4;  // subtract + index, exp ROM, leading-one + inverse ROM, multiply + quantise
  // mxv_mode
  localparam int MODE_DENSE = 0;
  localparam int MODE_WEIGHT_SPARSE = 1;
  localparam int MODE_MASR = 2;
  // cell_kind
  localparam int CELL_GRU = 0;
  localparam int CELL_LSTM = 1;
  localparam int CELL_SIMPLE_RNN = 2;
  // cell_activation
  localparam int ACT_TANH = 0;
  localparam int ACT_RELU = 1;
  localparam int ACT_SIGMOID = 2;
  localparam int ACT_HARD_SIGMOID = 3;
  // merge_mode
  localparam int MERGE_CONCAT = 0;
  localparam int MERGE_SUM = 1;
  localparam int MERGE_MUL = 2;
  localparam int MERGE_AVE = 3;
  // head_activation
  localparam int HEAD_LINEAR = 0;
  localparam int HEAD_RELU = 1;
  localparam int HEAD_SIGMOID = 2;
  localparam int HEAD_TANH = 3;
  localparam int HEAD_HARD_SIGMOID = 4;
  // rounding_mode
  localparam int ROUNDING_TRN = 0;
  localparam int ROUNDING_TRN_ZERO = 1;
  localparam int ROUNDING_RND = 2;
  localparam int ROUNDING_RND_ZERO = 3;
  localparam int ROUNDING_RND_MIN_INF = 4;
  localparam int ROUNDING_RND_INF = 5;
  localparam int ROUNDING_RND_CONV = 6;
  // overflow_mode
  localparam int OVERFLOW_WRAP = 0;
  localparam int OVERFLOW_SAT = 1;
  localparam int OVERFLOW_SAT_ZERO = 2;
  localparam int OVERFLOW_SAT_SYM = 3;
  /* verilator lint_on UNUSEDPARAM */
endpackage
