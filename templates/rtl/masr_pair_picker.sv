// The front end's priority encoder: take the lowest MACS set bits of the
// pairs still to issue (weight bit AND activation bit) and turn each into
// the address of its packed weight (the popcount of the weight mask below
// that bit plus the window's base address) and the element index of its
// activation (the bit's position plus the window's first element: the
// lanes hold activations by element index, see masr_act_encoder).
module masr_pair_picker #(
    parameter int WIN_BITS = 128,
    parameter int MACS = 1,
    parameter int WA_W = 8,
    parameter int AA_W = 8
) (
    input  logic [WIN_BITS-1:0]  todo,
    input  logic [WIN_BITS-1:0]  weight_mask,
    input  logic [WA_W-1:0]      weight_base,
    input  logic [AA_W-1:0]      act_base,
    output logic [MACS-1:0]      pick_valid,
    output logic [MACS*WA_W-1:0] weight_addr,
    output logic [MACS*AA_W-1:0] act_addr,
    output logic [WIN_BITS-1:0]  remaining
);
  localparam int COUNT_W = $clog2(WIN_BITS + 1);

  logic [MACS*WIN_BITS-1:0] below;  // per pick: the bits under the chosen one
  logic [MACS*COUNT_W-1:0] position;  // per pick: the chosen bit's index in the window

  always_comb begin : pick_lowest
    logic [WIN_BITS-1:0] left;
    left = todo;
    for (int j = 0; j < MACS; j++) begin
      pick_valid[j] = |left;
      below[j*WIN_BITS+:WIN_BITS] = (left - 1'b1) & ~left;
      position[j*COUNT_W+:COUNT_W] = '0;
      for (int b = WIN_BITS - 1; b >= 0; b--) if (left[b]) position[j*COUNT_W+:COUNT_W] = COUNT_W'(b);
      left = left & (left - 1'b1);  // clear the lowest set bit
    end
    remaining = left;
  end

  generate
    for (genvar j = 0; j < MACS; j++) begin : g_address
      /* verilator lint_off UNUSEDSIGNAL */
      // Counts can be wider than a bank's address; the true address always fits.
      logic [COUNT_W-1:0] weights_below;
      /* verilator lint_on UNUSEDSIGNAL */
      masr_popcount #(.WIDTH(WIN_BITS)) u_weights_below (
          .bits (weight_mask & below[j*WIN_BITS+:WIN_BITS]),
          .count(weights_below)
      );
      // Addresses are below each bank's size, so truncating the counts is exact.
      assign weight_addr[j*WA_W+:WA_W] = weight_base + WA_W'(weights_below);
      assign act_addr[j*AA_W+:AA_W] = act_base + AA_W'(position[j*COUNT_W+:COUNT_W]);
    end
  endgenerate
endmodule
