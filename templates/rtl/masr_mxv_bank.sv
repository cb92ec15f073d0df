// One weight bank of the sparse engine and the BANK_LANES lanes that read it.
//
// The bank holds the rows tied to it at conversion, in slot order
// (SparseMatrix's bank order; heaviest first under dynamic balancing): each
// row's weight mask, one window a line (laneNNN_mask.hex, NNN the bank), the
// packed non-zero weights (laneNNN_values.hex) and, with BANK_LANES > 1, each
// slot's first packed weight (laneNNN_slot_base.hex).  Every lane has its own
// read port on each memory, addressed by a register of the lane, so with two
// lanes a memory is one dual-port block RAM (no weight is stored twice).
//
// BANK_LANES = 1 (static balancing): the one lane goes through the bank's
// rows in slot order.  BANK_LANES = G > 1 (dynamic balancing,
// docs/arithmetic.md "Run-time balancing"): a shared slot counter; in each
// cycle the lanes that ask for a row (at start, or having examined the last
// window of their row) are given the next slots in lane order, while slots
// remain.  The bank keeps one result per slot, written by the lane that took
// the slot (a write enable and a G-way data mux per register: in a call each
// slot has one lane); a slot no lane wrote reads zero.
module masr_mxv_bank #(
    parameter int BANK = 0,
    parameter int BANK_LANES = 1,
    parameter int N_IN = 8,
    parameter int LANE_ROWS = 1,  // rows and non-zeros the bank can hold
    parameter int LANE_NNZ = 1,
    parameter int MACS = 1,
    parameter int WIN_BITS = masr_constants::MASK_BITS,
    parameter int WINDOWS = 1,
    parameter int W_W = 8,
    parameter int W_SIGNED = 1,
    parameter int A_W = 8,
    parameter int A_SIGNED = 1,
    parameter int ACC_W = 16,
    parameter int PROD_SHIFT = 0,
    parameter int ROUNDING = 0,
    parameter int FIFO_DEPTH = 4,
    parameter MEM_DIR = ".",
    parameter int AA_W = 3,
    parameter int WA_W = 1,
    parameter int SLOT_W = 1,
    parameter int ROWC_W = 1,
    parameter int WIN_W = 1,
    parameter int Y_ALL = 0,
    // derived
    parameter int MB = masr_constants::MASK_BITS,
    parameter int ROWS = (N_IN + MB - 1) / MB,  // activation rows
    parameter int ROW_W = ROWS > 1 ? $clog2(ROWS) : 1
) (
    input  logic                        clk,
    input  logic                        rst,
    input  logic                        start,
    input  logic [ROWC_W-1:0]           n_rows,
    input  logic [WINDOWS*WIN_BITS-1:0] act_mask,
    input  logic [MB-1:0]               act_we,
    input  logic [ROW_W-1:0]            act_wrow,
    input  logic [MB*A_W-1:0]           act_wdata,
    input  logic [SLOT_W-1:0]           y_slot,
    output logic [ACC_W-1:0]            y_value,  // the result at y_slot
    output logic [LANE_ROWS*ACC_W-1:0]  y_all,  // every slot at once (used only with Y_ALL)
    output logic                        busy
);
  localparam int G = BANK_LANES;
  localparam int MASK_DEPTH = LANE_ROWS * WINDOWS;
  localparam int MADDR_W = MASK_DEPTH > 1 ? $clog2(MASK_DEPTH) : 1;

  // ------------------------------------------------------------ memories
  // File names carry the bank number, e.g. lane007_mask.hex.
  localparam logic [23:0] BANK_DIGITS = {
    8'(48 + BANK / 100 % 10), 8'(48 + BANK / 10 % 10), 8'(48 + BANK % 10)
  };
  logic [WIN_BITS-1:0] mask_rom[0:MASK_DEPTH-1];  // slot-major: slot * WINDOWS + window
  logic [W_W-1:0] weight_rom[0:LANE_NNZ-1];  // non-zeros, row by row in slot order
  initial begin
    $readmemh({MEM_DIR, "/lane", BANK_DIGITS, "_mask.hex"}, mask_rom);
    $readmemh({MEM_DIR, "/lane", BANK_DIGITS, "_values.hex"}, weight_rom);
  end

  // Per-lane buses, lane g at [g * width +: width].
  logic [G*MADDR_W-1:0] mask_addr;
  logic [G*WIN_BITS-1:0] mask_data;
  logic [G*MACS*WA_W-1:0] weight_addr;
  logic [G*MACS*W_W-1:0] weight_data;
  logic [G*SLOT_W-1:0] slot;
  logic [G*WA_W-1:0] slot_base;
  logic [G-1:0] take, grant, lane_busy;
  logic [G*ROWC_W-1:0] grant_slot;

  // One read port per lane and MAC, each through the lane's address register.
  generate
    for (genvar g = 0; g < G; g++) begin : g_port
      assign mask_data[g*WIN_BITS+:WIN_BITS] = mask_rom[mask_addr[g*MADDR_W+:MADDR_W]];
      for (genvar j = 0; j < MACS; j++) begin : g_mac
        localparam int K = g * MACS + j;
        assign weight_data[K*W_W+:W_W] = weight_rom[weight_addr[K*WA_W+:WA_W]];
      end
    end
  endgenerate

  // ------------------------------------------------------- shared slot counter
  generate
    if (G == 1) begin : g_own
      assign grant = '0;
      assign grant_slot = '0;
      assign slot_base = '0;
      /* verilator lint_off UNUSEDSIGNAL */
      logic unused;
      /* verilator lint_on UNUSEDSIGNAL */
      assign unused = take[0] | (|slot);
    end else begin : g_shared
      localparam int CNT_W = $clog2(LANE_ROWS + 1);
      logic [WA_W-1:0] base_rom[0:LANE_ROWS-1];  // each slot's first packed weight
      initial $readmemh({MEM_DIR, "/lane", BANK_DIGITS, "_slot_base.hex"}, base_rom);
      for (genvar g = 0; g < G; g++) begin : g_base
        assign slot_base[g*WA_W+:WA_W] = base_rom[slot[g*SLOT_W+:SLOT_W]];
      end

      logic [CNT_W-1:0] next_slot;  // the bank's first slot not yet taken
      logic [CNT_W-1:0] given;
      always_comb begin : share_slots
        logic [CNT_W-1:0] first;
        first = start ? '0 : next_slot;
        given = '0;
        for (int g = 0; g < G; g++) begin
          grant_slot[g*ROWC_W+:ROWC_W] = ROWC_W'(first + given);
          grant[g] = take[g] && 32'(first) + 32'(given) < 32'(n_rows);
          if (grant[g]) given = given + 1'b1;
        end
      end
      always_ff @(posedge clk) begin : count_slots
        if (rst) next_slot <= '0;
        else if (start || |take) next_slot <= (start ? '0 : next_slot) + given;
      end
    end
  endgenerate

  // ------------------------------------------------------------------ lanes
  logic [G-1:0] res_we;
  logic [G*SLOT_W-1:0] res_slot;
  logic [G*ACC_W-1:0] res_data;

  generate
    for (genvar g = 0; g < G; g++) begin : g_lane
      masr_mxv_lane #(
          .N_IN(N_IN),
          .MACS(MACS),
          .WIN_BITS(WIN_BITS),
          .WINDOWS(WINDOWS),
          .W_W(W_W),
          .W_SIGNED(W_SIGNED),
          .A_W(A_W),
          .A_SIGNED(A_SIGNED),
          .ACC_W(ACC_W),
          .PROD_SHIFT(PROD_SHIFT),
          .ROUNDING(ROUNDING),
          .FIFO_DEPTH(FIFO_DEPTH),
          .AA_W(AA_W),
          .WA_W(WA_W),
          .SLOT_W(SLOT_W),
          .ROWC_W(ROWC_W),
          .WIN_W(WIN_W),
          .SHARED(G > 1 ? 1 : 0),
          .MADDR_W(MADDR_W)
      ) u_lane (
          .clk(clk),
          .rst(rst),
          .start(start),
          .n_rows(n_rows),
          .mask_addr(mask_addr[g*MADDR_W+:MADDR_W]),
          .mask_data(mask_data[g*WIN_BITS+:WIN_BITS]),
          .weight_addr(weight_addr[g*MACS*WA_W+:MACS*WA_W]),
          .weight_data(weight_data[g*MACS*W_W+:MACS*W_W]),
          .take(take[g]),
          .grant(grant[g]),
          .grant_slot(grant_slot[g*ROWC_W+:ROWC_W]),
          .slot(slot[g*SLOT_W+:SLOT_W]),
          .slot_base(slot_base[g*WA_W+:WA_W]),
          .act_mask(act_mask),
          .act_we(act_we),
          .act_wrow(act_wrow),
          .act_wdata(act_wdata),
          .res_we(res_we[g]),
          .res_slot(res_slot[g*SLOT_W+:SLOT_W]),
          .res_data(res_data[g*ACC_W+:ACC_W]),
          .busy(lane_busy[g])
      );
    end
  endgenerate

  // ---------------------------------------------------------------- results
  // One result per slot, written by the lane that holds the slot.  In a call no two lanes hold the same
  // slot, so a slot's register takes the data of the one lane writing it: a write enable and a G-way mux.
  // A slot no lane wrote in the call reads zero.
  generate
    if (G == 1 && Y_ALL == 0) begin : g_ram
      // One write port, one read port: a memory (LUT RAM), its zeros from a written bit per slot.
      logic [ACC_W-1:0] y_bank[0:LANE_ROWS-1];
      logic [LANE_ROWS-1:0] y_written;
      always_ff @(posedge clk) if (res_we[0]) y_bank[res_slot] <= res_data;
      always_ff @(posedge clk) begin : mark_results
        if (rst || start) y_written <= '0;
        else if (res_we[0]) y_written[res_slot] <= 1'b1;
      end
      assign y_value = y_written[y_slot] ? y_bank[y_slot] : '0;
      assign y_all = '0;
    end else begin : g_registers
      // Every slot read at once (Y_ALL), or written by several lanes: registers, cleared at start (each
      // flip-flop's synchronous reset), so nothing gates the reads.
      logic [ACC_W-1:0] y_reg[0:LANE_ROWS-1];
      for (genvar s = 0; s < LANE_ROWS; s++) begin : g_slot
        logic [ACC_W-1:0] value;
        logic [ACC_W-1:0] data;
        logic hit;
        always_comb begin : pick_lane
          hit = 1'b0;
          data = res_data[ACC_W-1:0];
          for (int g = 0; g < G; g++) begin
            if (res_we[g] && res_slot[g*SLOT_W+:SLOT_W] == SLOT_W'(s)) begin
              hit = 1'b1;
              data = res_data[g*ACC_W+:ACC_W];
            end
          end
        end
        always_ff @(posedge clk) begin : write_result
          if (rst || start) value <= '0;
          else if (hit) value <= data;
        end
        assign y_reg[s] = value;
      end
      // One block writing every slot: as one assign per slot, Verilator would chain concatenations, each
      // copying the vector so far (slots squared per evaluation).
      always_comb begin : gather_slots
        for (int s = 0; s < LANE_ROWS; s++) y_all[s*ACC_W+:ACC_W] = Y_ALL != 0 ? y_reg[s] : '0;
      end
      assign y_value = y_reg[y_slot];
    end
  endgenerate
  assign busy = |lane_busy;
endmodule
