// Address of a sigmoid/tanh table (activations.lut_index): the table has
// 2^N_LOG2 bins over [-2^R_LOG2, 2^R_LOG2); the index is
// floor((x + R) * N / (2R)), clamped to the table.  x is an exact signed
// value on the grid 2^-X_FRAC; every shift is a constant.
module masr_lut_index #(
    parameter int IN_W = 16,
    parameter int X_FRAC = 8,
    parameter int N_LOG2 = 10,
    parameter int R_LOG2 = 3
) (
    input  logic [IN_W-1:0]   x,
    output logic [N_LOG2-1:0] index
);
  // When R is finer than x's grid, move x to a finer grid first.
  localparam int PRE = X_FRAC + R_LOG2 < 0 ? -(X_FRAC + R_LOG2) : 0;
  localparam int F = X_FRAC + PRE;
  localparam int SH = F + R_LOG2 + 1 - N_LOG2;  // the bin width is 2^SH on x's grid
  localparam int UP = SH < 0 ? -SH : 0;
  localparam int BASE_W = (IN_W + PRE > F + R_LOG2 + 2 ? IN_W + PRE : F + R_LOG2 + 2) + 1;
  localparam int X_W = (BASE_W + UP > N_LOG2 + 2 ? BASE_W + UP : N_LOG2 + 2);
  localparam logic signed [X_W-1:0] TOP = (X_W'(1) <<< N_LOG2) - 1;

  /* verilator lint_off UNUSEDSIGNAL */
  logic signed [X_W-1:0] offset, scaled;
  /* verilator lint_on UNUSEDSIGNAL */
  assign offset = ({{(X_W - IN_W) {x[IN_W-1]}}, x} <<< PRE) + (X_W'(1) <<< (F + R_LOG2));
  generate
    if (SH >= 0) begin : g_down
      assign scaled = offset >>> SH;
    end else begin : g_up
      assign scaled = offset <<< UP;
    end
  endgenerate
  assign index = offset < 0 ? '0 : (scaled > TOP ? TOP[N_LOG2-1:0] : scaled[N_LOG2-1:0]);
endmodule
