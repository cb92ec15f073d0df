// MASR's activation encoding: a dense vector streams in one element per
// cycle (as the previous layer produces it) and leaves a bitmask, the
// pair-finding half of the encoding.  The values go to the lanes' copies by
// element index, one row of MASK_BITS elements (one mask word) per write:
// a lane reads only elements whose mask bit is set, so the values it reads
// are exactly the packed non-zeros of encode_activations, in index order,
// while a write needs no compaction network (a row write per mask word
// instead of one write port per packed position).
//
// VEC=1 adds a vector port, the twin of encode_activations in
// activation_encoder.h: with vec_load high in cycle s and vec_data held
// stable, mask word k of the vector is encoded in cycle s + k (its 32
// elements written as row k), so a vector takes mask words(N_IN) cycles.
module masr_act_encoder #(
    parameter int N_IN = 8,
    parameter int A_W = 8,
    parameter int WIN_BITS = masr_constants::MASK_BITS,
    parameter int WINDOWS = 1,
    parameter int VEC = 0,
    // derived
    parameter int ROWS = (N_IN + masr_constants::MASK_BITS - 1) / masr_constants::MASK_BITS,
    parameter int ROW_W = ROWS > 1 ? $clog2(ROWS) : 1
) (
    input  logic                                      clk,
    input  logic                                      rst,
    input  logic                                      in_valid,
    input  logic                                      in_ready,
    input  logic [A_W-1:0]                            in_data,
    input  logic                                      vec_load,
    input  logic [N_IN*A_W-1:0]                       vec_data,
    output logic [WINDOWS*WIN_BITS-1:0]               act_mask,
    output logic [masr_constants::MASK_BITS-1:0]      act_we,  // per element of the row
    output logic [ROW_W-1:0]                          act_wrow,
    output logic [masr_constants::MASK_BITS*A_W-1:0]  act_wdata
);
  localparam int MB = masr_constants::MASK_BITS;
  localparam int IDX_W = N_IN > 1 ? $clog2(N_IN) : 1;
  localparam int MASK_IDX_W = $clog2(WINDOWS * WIN_BITS);
  localparam int EI_W = IDX_W > 5 ? IDX_W : 5;

  logic [IDX_W-1:0] element;
  wire accept = in_valid & in_ready;
  wire nonzero = |in_data;
  wire last_element = element == IDX_W'(N_IN - 1);
  wire [EI_W-1:0] element_ext = EI_W'(element);

  // ------------------------------------------------------- vector port
  localparam int VW_W = ROWS > 1 ? $clog2(ROWS) : 1;
  logic vloading;
  logic [VW_W-1:0] vword_reg;
  wire vactive = VEC != 0 && (vec_load | vloading);
  wire [VW_W-1:0] vword = vec_load ? '0 : vword_reg;
  logic [MB*A_W-1:0] row_of[0:ROWS-1];  // the vector's rows, padded with zeros
  logic [MB-1:0] vnz;
  generate
    for (genvar r = 0; r < ROWS; r++) begin : g_row
      for (genvar b = 0; b < MB; b++) begin : g_elem
        if (r * MB + b < N_IN) begin : g_real
          assign row_of[r][b*A_W+:A_W] = vec_data[(r*MB+b)*A_W+:A_W];
        end else begin : g_pad
          assign row_of[r][b*A_W+:A_W] = '0;
        end
      end
    end
  endgenerate
  wire [MB*A_W-1:0] vrow = row_of[vword];
  always_comb for (int b = 0; b < MB; b++) vnz[b] = |vrow[b*A_W+:A_W];

  always_comb begin
    if (vactive) begin
      act_we = '1;
      act_wrow = ROW_W'(vword);
      act_wdata = vrow;
    end else begin
      act_we = MB'(accept) << element_ext[4:0];
      act_wrow = ROW_W'(element_ext >> 5);
      act_wdata = {MB{in_data}};
    end
  end

  always_ff @(posedge clk) begin
    if (rst) vloading <= 1'b0;
    else if (vactive) begin
      vloading <= ROWS > 1 && vword != VW_W'(ROWS - 1);
      vword_reg <= vword + 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      element <= '0;
      act_mask <= '0;  // the bits past N_IN stay zero for good
    end else if (vactive) begin
      act_mask[32*32'(vword)+:32] <= vnz;
    end else if (accept) begin
      act_mask[MASK_IDX_W'(element)] <= nonzero;
      element <= last_element ? '0 : element + 1'b1;
    end
  end
endmodule
