// MASR's sparse matrix-vector engine in RTL: y = W v on LANES lanes of MACS
// MACs, the twin of templates/masr/sparse_mxv.h (MODE_MASR).
//
// Use: stream the N_IN elements of v (raw fixed-point) through in_valid /
// in_data while in_ready; pulse start; done pulses when y is complete; then
// read y[r] combinationally through y_row / y_data (or every row at once on
// y_all, with Y_ALL=1, as the GRU gates need).  The weights come from
// hex files in MEM_DIR written by masr_hls.rtl from a SparseMatrix, one
// set per bank (masr_mxv_bank; a bank per lane unless BANK_LANES > 1):
//   laneNNN_mask.hex       each row's weight mask, one window (WIN_BITS) a line
//   laneNNN_values.hex     the bank's packed non-zero weights
//   laneNNN_slot_base.hex  each slot's first packed weight (read with BANK_LANES > 1)
//   lane_n_rows.hex        rows per bank
//   row_lane.hex, row_slot.hex   where each output row's result lives (bank, slot)
// Products are quantised to the accumulator (W_FRAC + A_FRAC -> ACC_FRAC with
// ROUNDING) and summed with wrap-around at ACC_W bits.
//
// Timing: with start sampled at clock edge 0, done is high in the cycle the
// cycle model of docs/arithmetic.md counts (busiest lane + DONE_DEPTH), for
// static balancing (BANK_LANES = 1) and for lanes sharing banks alike.
module masr_mxv #(
    parameter int N_IN = 8,
    parameter int N_OUT = 8,
    parameter int LANES = 1,
    parameter int MACS = 1,
    parameter int SCAN_WORDS = 4,  // mask words the front end examines per cycle
    parameter int LANE_ROWS = 8,  // bank sizes: rows and non-zeros one bank can hold
    parameter int LANE_NNZ = 64,
    parameter int BANK_LANES = 1,  // lanes sharing a bank (1: static balancing; G > 1: dynamic, docs/arithmetic.md)
    parameter int W_W = 8,
    parameter int W_FRAC = 4,
    parameter int W_SIGNED = 1,
    parameter int A_W = 8,
    parameter int A_FRAC = 4,
    parameter int A_SIGNED = 1,
    parameter int ACC_W = 16,
    parameter int ACC_FRAC = 8,
    parameter int ROUNDING = 0,  // index into fixed_point.ROUNDING_MODES
    parameter int FIFO_DEPTH = 4,  // windows with pairs queued between front and back end
    parameter int Y_ALL = 0,  // 1: y_all carries every row at once (for the GRU gates)
    parameter int VEC = 0,  // 1: also load v whole through vec_load / vec_data (mask words(N_IN) cycles)
    parameter MEM_DIR = "."
) (
    input  logic                                         clk,
    input  logic                                         rst,
    input  logic                                         in_valid,
    output logic                                         in_ready,
    input  logic [A_W-1:0]                               in_data,
    input  logic                                         vec_load,  // VEC=1: word k of vec_data in cycle k
    input  logic [N_IN*A_W-1:0]                          vec_data,  // held while loading
    input  logic                                         start,
    output logic                                         done,
    output logic                                         busy,
    input  logic [(N_OUT > 1 ? $clog2(N_OUT) : 1)-1:0]   y_row,
    output logic [ACC_W-1:0]                             y_data,
    output logic [N_OUT*ACC_W-1:0]                       y_all
);
  localparam int N_WORDS = (N_IN + masr_constants::MASK_BITS - 1) / masr_constants::MASK_BITS;
  localparam int WIN_WORDS = SCAN_WORDS < N_WORDS ? SCAN_WORDS : N_WORDS;
  localparam int WIN_BITS = masr_constants::MASK_BITS * WIN_WORDS;
  localparam int WINDOWS = (N_WORDS + WIN_WORDS - 1) / WIN_WORDS;  // per row
  localparam int AA_W = N_IN > 1 ? $clog2(N_IN) : 1;
  localparam int WA_W = LANE_NNZ > 1 ? $clog2(LANE_NNZ) : 1;
  localparam int SLOT_W = LANE_ROWS > 1 ? $clog2(LANE_ROWS) : 1;
  localparam int ROWC_W = $clog2(LANE_ROWS + 1);
  localparam int WIN_W = WINDOWS > 1 ? $clog2(WINDOWS) : 1;
  localparam int BANKS = LANES / BANK_LANES;
  localparam int BANK_W = BANKS > 1 ? $clog2(BANKS) : 1;

  logic [ROWC_W-1:0] lane_n_rows[0:BANKS-1];  // rows per bank
  logic [BANK_W-1:0] row_lane[0:N_OUT-1];  // each row's bank
  logic [SLOT_W-1:0] row_slot[0:N_OUT-1];
  initial begin
    $readmemh({MEM_DIR, "/lane_n_rows.hex"}, lane_n_rows);
    $readmemh({MEM_DIR, "/row_lane.hex"}, row_lane);
    $readmemh({MEM_DIR, "/row_slot.hex"}, row_slot);
  end

  logic running;
  wire launch = start & ~running;
  assign in_ready = ~running;
  assign busy = running;

  localparam int MB = masr_constants::MASK_BITS;
  localparam int ROW_W = N_WORDS > 1 ? $clog2(N_WORDS) : 1;
  logic [WINDOWS*WIN_BITS-1:0] act_mask;
  logic [MB-1:0] act_we;
  logic [ROW_W-1:0] act_wrow;
  logic [MB*A_W-1:0] act_wdata;

  masr_act_encoder #(
      .N_IN(N_IN),
      .A_W(A_W),
      .WIN_BITS(WIN_BITS),
      .WINDOWS(WINDOWS),
      .VEC(VEC)
  ) u_encoder (
      .clk(clk),
      .rst(rst),
      .in_valid(in_valid),
      .in_ready(in_ready),
      .in_data(in_data),
      .vec_load(vec_load & in_ready),
      .vec_data(vec_data),
      .act_mask(act_mask),
      .act_we(act_we),
      .act_wrow(act_wrow),
      .act_wdata(act_wdata)
  );

  logic [BANKS-1:0] bank_busy;
  logic [ACC_W-1:0] bank_y[0:BANKS-1];
  /* verilator lint_off UNUSEDSIGNAL */
  logic [LANE_ROWS*ACC_W-1:0] bank_y_all[0:BANKS-1];  // read only with Y_ALL
  /* verilator lint_on UNUSEDSIGNAL */

  generate
    for (genvar b = 0; b < BANKS; b++) begin : g_bank
      masr_mxv_bank #(
          .BANK(b),
          .BANK_LANES(BANK_LANES),
          .N_IN(N_IN),
          .LANE_ROWS(LANE_ROWS),
          .LANE_NNZ(LANE_NNZ),
          .MACS(MACS),
          .WIN_BITS(WIN_BITS),
          .WINDOWS(WINDOWS),
          .W_W(W_W),
          .W_SIGNED(W_SIGNED),
          .A_W(A_W),
          .A_SIGNED(A_SIGNED),
          .ACC_W(ACC_W),
          .PROD_SHIFT(W_FRAC + A_FRAC - ACC_FRAC),
          .ROUNDING(ROUNDING),
          .FIFO_DEPTH(FIFO_DEPTH),
          .MEM_DIR(MEM_DIR),
          .AA_W(AA_W),
          .WA_W(WA_W),
          .SLOT_W(SLOT_W),
          .ROWC_W(ROWC_W),
          .WIN_W(WIN_W),
          .Y_ALL(Y_ALL)
      ) u_bank (
          .clk(clk),
          .rst(rst),
          .start(launch),
          .n_rows(lane_n_rows[b]),
          .act_mask(act_mask),
          .act_we(act_we),
          .act_wrow(act_wrow),
          .act_wdata(act_wdata),
          .y_slot(row_slot[y_row]),
          .y_value(bank_y[b]),
          .y_all(bank_y_all[b]),
          .busy(bank_busy[b])
      );
    end
  endgenerate

  assign y_data = bank_y[row_lane[y_row]];

  // Every row at once: with the weights fixed, row_lane and row_slot are
  // constants and synthesis turns this crossbar into plain wires.  One block
  // writes every row: as one assign per row, Verilator would chain
  // concatenations, each copying the vector so far (rows squared per evaluation).
  always_comb begin : gather_rows
    for (int r = 0; r < N_OUT; r++) y_all[r*ACC_W+:ACC_W] = Y_ALL != 0 ? bank_y_all[row_lane[r]][row_slot[r]*ACC_W+:ACC_W] : '0;
  end

  // done is combinational on registered state: it rises in the first cycle
  // after the last accumulate, and running drops with it.
  assign done = running & ~(|bank_busy);
  always_ff @(posedge clk) begin
    if (rst) running <= 1'b0;
    else if (launch) running <= 1'b1;
    else if (done) running <= 1'b0;
  end
endmodule
