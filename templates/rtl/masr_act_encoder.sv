// MASR's compact activation storage: a dense vector streams in one element
// per cycle (as the previous layer produces it) and leaves a bitmask plus its
// non-zero values packed in index order.  Zeros cost one mask bit and no
// write.  The packed write ports are broadcast to every lane, which keeps its
// own copy so that its MACs can read it without arbitration.
//
// VEC=1 adds a vector port, the twin of encode_activations in
// activation_encoder.h: with vec_load high in cycle s and vec_data held
// stable, mask word k of the vector is encoded in cycle s + k (32 elements
// per cycle, their packed addresses by prefix popcount), so a vector takes
// mask words(N_IN) cycles.  WP = 32 write ports (1 without VEC).
module masr_act_encoder #(
    parameter int N_IN = 8,
    parameter int A_W = 8,
    parameter int WIN_BITS = masr_constants::MASK_BITS,
    parameter int WINDOWS = 1,
    parameter int AA_W = 3,
    parameter int WIN_W = 1,
    parameter int VEC = 0,
    parameter int WP = VEC != 0 ? 32 : 1
) (
    input  logic                      clk,
    input  logic                      rst,
    input  logic                      in_valid,
    input  logic                      in_ready,
    input  logic [A_W-1:0]            in_data,
    input  logic                      vec_load,
    input  logic [N_IN*A_W-1:0]       vec_data,
    output logic [WINDOWS*WIN_BITS-1:0] act_mask,
    // packed address of each window's first non-zero, so lanes never count
    // the mask bits of earlier windows
    output logic [WINDOWS*AA_W-1:0]   act_base,
    output logic [WP-1:0]             act_we,
    output logic [WP*AA_W-1:0]        act_waddr,
    output logic [WP*A_W-1:0]         act_wdata
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

  // ------------------------------------------------------- vector port
  localparam int N_WORDS = (N_IN + masr_constants::MASK_BITS - 1) / masr_constants::MASK_BITS;
  localparam int WORDS_PER_WIN = WIN_BITS / masr_constants::MASK_BITS;
  localparam int VW_W = N_WORDS > 1 ? $clog2(N_WORDS) : 1;
  localparam int PC_W = AA_W + 1;
  logic vloading;
  logic [VW_W-1:0] vword_reg;
  logic [PC_W-1:0] vcount_reg;
  wire vactive = VEC != 0 && (vec_load | vloading);
  wire [VW_W-1:0] vword = vec_load ? '0 : vword_reg;
  wire [PC_W-1:0] vcount = vec_load ? '0 : vcount_reg;
  logic [A_W-1:0] elem[0:N_WORDS*masr_constants::MASK_BITS-1];
  logic [masr_constants::MASK_BITS-1:0] vnz;
  logic [PC_W-1:0] vprefix[0:masr_constants::MASK_BITS];
  generate
    for (genvar i = 0; i < N_WORDS * masr_constants::MASK_BITS; i++) begin : g_elem
      if (i < N_IN) begin : g_real
        assign elem[i] = vec_data[i*A_W+:A_W];
      end else begin : g_pad
        assign elem[i] = '0;
      end
    end
  endgenerate
  always_comb begin
    vprefix[0] = '0;
    for (int b = 0; b < masr_constants::MASK_BITS; b++) begin
      vnz[b] = |elem[32*32'(vword)+b];
      vprefix[b+1] = vprefix[b] + PC_W'(vnz[b]);
    end
  end

  always_comb begin
    act_we = '0;
    act_waddr = '0;
    act_wdata = '0;
    if (vactive) begin
      for (int b = 0; b < WP; b++) begin
        act_we[b] = vnz[b];
        act_waddr[b*AA_W+:AA_W] = AA_W'(vcount + vprefix[b]);
        act_wdata[b*A_W+:A_W] = elem[32*32'(vword)+b];
      end
    end else begin
      act_we[0] = accept & nonzero;
      act_waddr[AA_W-1:0] = nonzeros;
      act_wdata[A_W-1:0] = in_data;
    end
  end

  always_ff @(posedge clk) begin
    if (rst) vloading <= 1'b0;
    else if (vactive) begin
      vloading <= N_WORDS > 1 && vword != VW_W'(N_WORDS - 1);
      vword_reg <= vword + 1'b1;
      vcount_reg <= vcount + vprefix[masr_constants::MASK_BITS];
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      element <= '0;
      bit_in_window <= '0;
      window <= '0;
      nonzeros <= '0;
      act_mask <= '0;  // the bits past N_IN stay zero for good
      for (int w = 0; w < WINDOWS; w++) base_of[w] <= '0;
    end else if (vactive) begin
      act_mask[32*32'(vword)+:32] <= vnz;
      if (32'(vword) % WORDS_PER_WIN == 0) base_of[WIN_W'(32'(vword) / WORDS_PER_WIN)] <= AA_W'(vcount);
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
