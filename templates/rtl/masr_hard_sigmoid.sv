// Keras 3 hard_sigmoid (activations.hard_sigmoid): clip(x / 6 + 1/2, 0, 1)
// with the slope 1/6 held as 43691 / 2^18, computed exactly and stored once
// in the gate type.
module masr_hard_sigmoid #(
    parameter int IN_W = 16,
    parameter int X_FRAC = 8,
    parameter int OUT_W = 16,
    parameter int OUT_FRAC = 15,
    parameter int OUT_SIGNED = 0,
    parameter int ROUNDING = 0,
    parameter int OVERFLOW = 0
) (
    input  logic [IN_W-1:0]  x,
    output logic [OUT_W-1:0] y
);
  localparam int SLOPE_FRAC = 18;
  localparam int SLOPE = 43691;  // round(2^18 / 6)
  localparam int F = X_FRAC + SLOPE_FRAC;
  localparam int P_W = (IN_W + 18 > F + 2 ? IN_W + 18 : F + 2) + 1;
  localparam logic signed [P_W-1:0] ONE = P_W'(1);

  logic signed [P_W-1:0] line, clipped;
  assign line = {{(P_W - IN_W) {x[IN_W-1]}}, x} * P_W'(SLOPE) + (ONE <<< (F - 1));
  assign clipped = line < 0 ? '0 : (line > (ONE <<< F) ? (ONE <<< F) : line);

  masr_fixed_cast #(
      .IN_W(P_W),
      .IN_FRAC(F),
      .OUT_W(OUT_W),
      .OUT_FRAC(OUT_FRAC),
      .OUT_SIGNED(OUT_SIGNED),
      .ROUNDING(ROUNDING),
      .OVERFLOW(OVERFLOW)
  ) u_store (
      .value (clipped),
      .result(y)
  );
endmodule
