// One output of a Bidirectional merge (rnn_layer.merge): the forward state a
// and the backward state b of the same frame, stored once in the output
// type.  MODE, a masr_constants::MERGE_* value: concat (y0 = out_t(a),
// y1 = out_t(b)), sum out_t(a + b), mul out_t(a * b), ave out_t((a + b) / 2),
// the halving exact.
module masr_merge_unit #(
    parameter int ST_W = 16,
    parameter int ST_FRAC = 10,
    parameter int ST_SIGNED = 1,
    parameter int MODE = 0,
    parameter int O_W = 16,
    parameter int O_FRAC = 10,
    parameter int O_SIGNED = 1,
    parameter int O_ROUNDING = 0,
    parameter int O_OVERFLOW = 0
) (
    input  logic [ST_W-1:0] a,
    input  logic [ST_W-1:0] b,
    output logic [O_W-1:0]  y0,
    output logic [O_W-1:0]  y1  // concat's second half; zero otherwise
);
  localparam int E_W = 2 * ST_W + 2;
  logic signed [E_W-1:0] a_ext, b_ext, combined;
  assign a_ext = {{(E_W - ST_W) {ST_SIGNED != 0 && a[ST_W-1]}}, a};
  assign b_ext = {{(E_W - ST_W) {ST_SIGNED != 0 && b[ST_W-1]}}, b};

  generate
    if (MODE == masr_constants::MERGE_CONCAT) begin : g_concat
      assign combined = a_ext;
      masr_fixed_cast #(
          .IN_W(E_W), .IN_FRAC(ST_FRAC), .OUT_W(O_W), .OUT_FRAC(O_FRAC), .OUT_SIGNED(O_SIGNED),
          .ROUNDING(O_ROUNDING), .OVERFLOW(O_OVERFLOW)
      ) u_second (.value(b_ext), .result(y1));
    end else begin : g_combine
      assign combined = MODE == masr_constants::MERGE_MUL ? a_ext * b_ext : a_ext + b_ext;
      assign y1 = '0;
    end
  endgenerate

  localparam int FRAC = MODE == masr_constants::MERGE_MUL ? 2 * ST_FRAC : (MODE == masr_constants::MERGE_AVE ? ST_FRAC + 1 : ST_FRAC);
  masr_fixed_cast #(
      .IN_W(E_W), .IN_FRAC(FRAC), .OUT_W(O_W), .OUT_FRAC(O_FRAC), .OUT_SIGNED(O_SIGNED),
      .ROUNDING(O_ROUNDING), .OVERFLOW(O_OVERFLOW)
  ) u_first (
      .value (combined),
      .result(y0)
  );
endmodule
