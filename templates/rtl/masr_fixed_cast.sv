// Store an exact value in an ap_fixed / ap_ufixed type, as assignment does
// (FixedType.quantize_raw): drop IN_FRAC - OUT_FRAC fractional bits with the
// type's rounding mode, then apply its overflow mode.  The value is a raw
// two's-complement integer on the grid 2^-IN_FRAC; callers sign- or
// zero-extend unsigned operands first.
//
// ROUNDING and OVERFLOW are masr_constants::ROUNDING_* / OVERFLOW_* values
// (the order of masr_hls/constants.py's ROUNDING_MODES and OVERFLOW_MODES).
module masr_fixed_cast #(
    parameter int IN_W = 16,
    parameter int IN_FRAC = 0,
    parameter int OUT_W = 16,
    parameter int OUT_FRAC = 0,
    parameter int OUT_SIGNED = 1,
    parameter int ROUNDING = 0,
    parameter int OVERFLOW = 0
) (
    input  logic [IN_W-1:0]  value,
    output logic [OUT_W-1:0] result
);
  localparam int SHIFT = IN_FRAC - OUT_FRAC;
  // Wide enough for the rounded value before overflow: floor(x / 2^SHIFT) + 1.
  localparam int KEEP = IN_W - SHIFT > 1 ? IN_W - SHIFT : 1;
  localparam int R_W = SHIFT > 0 ? KEEP + 1 : IN_W - SHIFT;
  localparam int C_W = (R_W > OUT_W ? R_W : OUT_W) + 2;
  localparam logic signed [C_W-1:0] ONE = C_W'(1);
  localparam logic signed [C_W-1:0] HI = OUT_SIGNED != 0 ? (ONE <<< (OUT_W - 1)) - ONE : (ONE <<< OUT_W) - ONE;
  localparam logic signed [C_W-1:0] LO = OUT_SIGNED != 0 ? -(ONE <<< (OUT_W - 1)) : '0;
  localparam logic signed [C_W-1:0] SYM_LO = OUT_SIGNED != 0 ? -HI : '0;  // AP_SAT_SYM never gives the lowest code

  logic [R_W-1:0] rounded;
  masr_quantize #(
      .IN_W(IN_W),
      .SHIFT(SHIFT),
      .OUT_W(R_W),
      .ROUNDING(ROUNDING)
  ) u_round (
      .value(value),
      .quantised(rounded)
  );

  /* verilator lint_off UNUSEDSIGNAL */
  // Only the low OUT_W bits leave; the rest decide saturation.
  logic signed [C_W-1:0] q, kept;
  /* verilator lint_on UNUSEDSIGNAL */
  assign q = {{(C_W - R_W) {rounded[R_W-1]}}, rounded};

  always_comb begin : overflow
    case (OVERFLOW)
      masr_constants::OVERFLOW_SAT: kept = q < LO ? LO : (q > HI ? HI : q);
      masr_constants::OVERFLOW_SAT_ZERO: kept = (q < LO || q > HI) ? '0 : q;
      masr_constants::OVERFLOW_SAT_SYM: kept = q < SYM_LO ? SYM_LO : (q > HI ? HI : q);
      default: kept = q;  // wrap: keep the low bits
    endcase
  end
  assign result = kept[OUT_W-1:0];
endmodule
