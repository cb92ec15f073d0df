// The front end's priority encoder: take the lowest MACS set bits of the
// pairs still to issue (weight bit AND activation bit) and turn each into
// the addresses of its packed weight and packed activation, which are the
// popcounts of the two masks below that bit plus the window's base address.
module masr_pair_picker #(
    parameter int WIN_BITS = 128,
    parameter int MACS = 1,
    parameter int WA_W = 8,
    parameter int AA_W = 8
) (
    input  logic [WIN_BITS-1:0]  todo,
    input  logic [WIN_BITS-1:0]  weight_mask,
    input  logic [WIN_BITS-1:0]  act_mask,
    input  logic [WA_W-1:0]      weight_base,
    input  logic [AA_W-1:0]      act_base,
    output logic [MACS-1:0]      pick_valid,
    output logic [MACS*WA_W-1:0] weight_addr,
    output logic [MACS*AA_W-1:0] act_addr,
    output logic [WIN_BITS-1:0]  remaining
);
  localparam int COUNT_W = $clog2(WIN_BITS + 1);

  logic [MACS*WIN_BITS-1:0] below;  // per pick: the bits under the chosen one

  always_comb begin : pick_lowest
    logic [WIN_BITS-1:0] left;
    left = todo;
    for (int j = 0; j < MACS; j++) begin
      pick_valid[j] = |left;
      below[j*WIN_BITS+:WIN_BITS] = (left - 1'b1) & ~left;
      left = left & (left - 1'b1);  // clear the lowest set bit
    end
    remaining = left;
  end

  generate
    for (genvar j = 0; j < MACS; j++) begin : g_address
      /* verilator lint_off UNUSEDSIGNAL */
      // Counts can be wider than a bank's address; the true address always fits.
      logic [COUNT_W-1:0] weights_below, acts_below;
      /* verilator lint_on UNUSEDSIGNAL */
      masr_popcount #(.WIDTH(WIN_BITS)) u_weights_below (
          .bits (weight_mask & below[j*WIN_BITS+:WIN_BITS]),
          .count(weights_below)
      );
      masr_popcount #(.WIDTH(WIN_BITS)) u_acts_below (
          .bits (act_mask & below[j*WIN_BITS+:WIN_BITS]),
          .count(acts_below)
      );
      // Addresses are below each bank's size, so truncating the counts is exact.
      assign weight_addr[j*WA_W+:WA_W] = weight_base + WA_W'(weights_below);
      assign act_addr[j*AA_W+:AA_W] = act_base + AA_W'(acts_below);
    end
  endgenerate
endmodule
