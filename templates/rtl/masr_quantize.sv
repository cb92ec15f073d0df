// Assign a product (a raw integer on the grid 2^-(SHIFT + accumulator frac))
// to the accumulator type, as ap_fixed assignment does: drop SHIFT bits with
// the accumulator's rounding mode, then wrap to OUT_W bits.  The engine only
// accepts AP_WRAP accumulators, so overflow is always a plain truncation.
//
// ROUNDING is a masr_constants::ROUNDING_* value (masr_hls/constants.py's
// ROUNDING_MODES order).
module masr_quantize #(
    parameter int IN_W = 16,
    parameter int SHIFT = 0,  // fractional bits dropped; <= 0 means the grid gets finer (exact)
    parameter int OUT_W = 16,
    parameter int ROUNDING = 0
) (
    input  logic [IN_W-1:0]  value,  // two's complement
    output logic [OUT_W-1:0] quantised
);
  localparam int WIDER = IN_W > OUT_W ? IN_W : OUT_W;
  // One spare bit above everything we look at, so sign extension is never a no-op.
  localparam int EXT_W = (WIDER > SHIFT + 1 ? WIDER : SHIFT + 1) + 1;

  /* verilator lint_off UNUSEDSIGNAL */
  // Only the low OUT_W bits survive the wrap; the rest exist to sign-extend.
  logic [EXT_W-1:0] extended;
  /* verilator lint_on UNUSEDSIGNAL */
  assign extended = {{(EXT_W - IN_W) {value[IN_W-1]}}, value};

  generate
    if (SHIFT <= 0) begin : g_exact
      /* verilator lint_off UNUSEDSIGNAL */
      logic [EXT_W-1:0] shifted;
      /* verilator lint_on UNUSEDSIGNAL */
      assign shifted   = extended << (-SHIFT);
      assign quantised = shifted[OUT_W-1:0];
    end else begin : g_round
      /* verilator lint_off UNUSEDSIGNAL */
      logic [EXT_W-1:0] floor_value, rounded;
      /* verilator lint_on UNUSEDSIGNAL */
      logic half_bit, lower_bits, round_up;
      // Arithmetic shift = floor, which is AP_TRN; the other modes add one LSB.
      assign floor_value = $signed(extended) >>> SHIFT;
      assign half_bit = extended[SHIFT-1];
      if (SHIFT > 1) begin : g_lower
        assign lower_bits = |extended[SHIFT-2:0];
      end else begin : g_no_lower
        assign lower_bits = 1'b0;
      end

      always_comb begin : pick_rounding
        logic negative, above_half, exactly_half, inexact;
        negative = value[IN_W-1];
        above_half = half_bit & lower_bits;
        exactly_half = half_bit & ~lower_bits;
        inexact = half_bit | lower_bits;
        case (ROUNDING)
          masr_constants::ROUNDING_TRN_ZERO: round_up = negative & inexact;  // toward zero
          masr_constants::ROUNDING_RND: round_up = half_bit;  // ties up (toward +inf)
          masr_constants::ROUNDING_RND_ZERO: round_up = above_half | (exactly_half & negative);  // ties toward zero
          masr_constants::ROUNDING_RND_MIN_INF: round_up = above_half;  // ties toward -inf
          masr_constants::ROUNDING_RND_INF: round_up = above_half | (exactly_half & ~negative);  // ties away from zero
          masr_constants::ROUNDING_RND_CONV: round_up = above_half | (exactly_half & floor_value[0]);  // ties to even
          default: round_up = 1'b0;  // AP_TRN: floor
        endcase
      end

      assign rounded   = floor_value + EXT_W'(round_up);
      assign quantised = rounded[OUT_W-1:0];
    end
  endgenerate
endmodule
