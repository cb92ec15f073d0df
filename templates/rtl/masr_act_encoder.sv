// MASR's compact activation storage: a dense vector streams in one element
// per cycle (as the previous layer produces it) and leaves a bitmask plus its
// non-zero values packed in index order.  Zeros cost one mask bit and no
// write.  The packed write port is broadcast to every lane, which keeps its
// own copy so that its MACs can read it without arbitration.
module masr_act_encoder #(
    parameter int N_IN = 8,
    parameter int A_W = 8,
    parameter int WIN_BITS = 32,
    parameter int WINDOWS = 1,
    parameter int AA_W = 3,
    parameter int WIN_W = 1
) (
    input  logic                      clk,
    input  logic                      rst,
    input  logic                      in_valid,
    input  logic                      in_ready,
    input  logic [A_W-1:0]            in_data,
    output logic [WINDOWS*WIN_BITS-1:0] act_mask,
    // packed address of each window's first non-zero, so lanes never count
    // the mask bits of earlier windows
    output logic [WINDOWS*AA_W-1:0]   act_base,
    output logic                      act_we,
    output logic [AA_W-1:0]           act_waddr,
    output logic [A_W-1:0]            act_wdata
);
  localparam int IDX_W = N_IN > 1 ? $clog2(N_IN) : 1;
  localparam int BIT_W = $clog2(WIN_BITS);
  localparam int MASK_IDX_W = $clog2(WINDOWS * WIN_BITS);

  logic [IDX_W-1:0] element;
  logic [BIT_W-1:0] bit_in_window;
  logic [WIN_W-1:0] window;
  logic [AA_W-1:0] nonzeros;  // packed values written so far for this vector
  logic [AA_W-1:0] base_of[0:WINDOWS-1];

  generate
    for (genvar w = 0; w < WINDOWS; w++) begin : g_window
      assign act_base[w*AA_W+:AA_W] = base_of[w];
    end
  endgenerate

  wire accept = in_valid & in_ready;
  wire nonzero = |in_data;
  wire last_element = element == IDX_W'(N_IN - 1);

  assign act_we = accept & nonzero;
  assign act_waddr = nonzeros;
  assign act_wdata = in_data;

  always_ff @(posedge clk) begin
    if (rst) begin
      element <= '0;
      bit_in_window <= '0;
      window <= '0;
      nonzeros <= '0;
      act_mask <= '0;  // the bits past N_IN stay zero for good
      for (int w = 0; w < WINDOWS; w++) base_of[w] <= '0;
    end else if (accept) begin
      act_mask[MASK_IDX_W'(element)] <= nonzero;
      if (bit_in_window == '0) base_of[window] <= nonzeros;
      if (last_element) begin
        element <= '0;
        bit_in_window <= '0;
        window <= '0;
        nonzeros <= '0;
      end else begin
        element <= element + 1'b1;
        if (bit_in_window == BIT_W'(WIN_BITS - 1)) begin
          bit_in_window <= '0;
          window <= window + 1'b1;
        end else begin
          bit_in_window <= bit_in_window + 1'b1;
        end
        if (nonzero) nonzeros <= nonzeros + 1'b1;
      end
    end
  end
endmodule
