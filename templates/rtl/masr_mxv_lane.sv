// One lane of the sparse engine: it reads the weight masks and packed weights
// of its bank (masr_mxv_bank, one read port per lane), holds a private copy of
// the activations (by element index, a row of MASK_BITS elements per write;
// only elements whose mask bit is set are ever read), and writes its results
// into the bank's result registers, at the slot of the row it sums.
//
// Which rows it takes: with SHARED = 0 (static balancing) the lane owns its
// bank and goes through its rows in slot order, the weight address of a
// window counted on from the previous window's.  With SHARED = 1 (dynamic
// balancing, docs/arithmetic.md "Run-time balancing") the lane asks its bank
// for the next slot (take) in the cycle it examines the last window of a row
// and is told the slot (grant, grant_slot) in the same cycle; the row's first
// weight address comes from the bank's slot_base ROM, read through the
// registered slot.  A lane granted nothing has finished its front end.
//
// Front end (irregular): one mask window (WIN_BITS bits of one row) per
// cycle, AND-ed with the activation mask.  A window without pairs is dropped
// on the spot; the others queue in a small FIFO, so runs of empty windows
// hide behind the back end's work.
// Back end (regular): each cycle the lowest MACS pairs of the head window
// get their addresses by popcount, then read + multiply, then quantise +
// accumulate.  The running sum is written through to the bank's result
// register of its slot (res_we, res_slot, res_data).
//
//   cycle:  front (mask read, AND) | issue (priority encode, popcount)
//           | weight/activation read, multiply | quantise, accumulate
module masr_mxv_lane #(
    parameter int N_IN = 8,
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
    parameter int AA_W = 3,
    parameter int WA_W = 1,
    parameter int SLOT_W = 1,
    parameter int ROWC_W = 1,
    parameter int WIN_W = 1,
    parameter int SHARED = 0,  // 1: rows taken from a shared bank at run time (dynamic balancing)
    parameter int MADDR_W = 1,  // mask ROM address: LANE_ROWS * WINDOWS windows
    // derived
    parameter int MB = masr_constants::MASK_BITS,
    parameter int ROWS = (N_IN + MB - 1) / MB,  // activation rows
    parameter int ROW_W = ROWS > 1 ? $clog2(ROWS) : 1
) (
    input  logic                        clk,
    input  logic                        rst,
    input  logic                        start,
    /* verilator lint_off UNUSEDSIGNAL */  // each of SHARED's two front ends reads some of these
    input  logic [ROWC_W-1:0]           n_rows,  // SHARED = 0: the lane's rows (SHARED = 1: the bank counts them)
    // the bank's memories, one read port per lane (addresses are registers of this lane)
    output logic [MADDR_W-1:0]          mask_addr,
    input  logic [WIN_BITS-1:0]         mask_data,
    output logic [MACS*WA_W-1:0]        weight_addr,
    input  logic [MACS*W_W-1:0]         weight_data,
    // SHARED = 1: the bank's next slot, and the first weight of the lane's slot
    output logic                        take,
    input  logic                        grant,
    input  logic [ROWC_W-1:0]           grant_slot,
    output logic [SLOT_W-1:0]           slot,
    input  logic [WA_W-1:0]             slot_base,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [WINDOWS*WIN_BITS-1:0] act_mask,
    input  logic [MB-1:0]               act_we,  // per element of row act_wrow
    input  logic [ROW_W-1:0]            act_wrow,
    input  logic [MB*A_W-1:0]           act_wdata,
    // the accumulate stage's write of its row's running sum into the bank's result register of that slot
    output logic                        res_we,
    output logic [SLOT_W-1:0]           res_slot,
    output logic [ACC_W-1:0]            res_data,
    output logic                        busy
);
  localparam int COUNT_W = $clog2(WIN_BITS + 1);
  localparam int P_W = W_W + A_W + 2;  // any product of the two sign-extended operands
  localparam int PTR_W = FIFO_DEPTH > 1 ? $clog2(FIFO_DEPTH) : 1;
  localparam int FILL_W = $clog2(FIFO_DEPTH + 1);
  localparam int ENTRY_W = SLOT_W + WIN_W + WA_W + 2 * WIN_BITS;

  // One write port with an enable per element: a row (mask word) per cycle.
  logic [MB*A_W-1:0] act_ram[0:ROWS-1];
  always_ff @(posedge clk) begin
    for (int p = 0; p < MB; p++) if (act_we[p]) act_ram[act_wrow][p*A_W+:A_W] <= act_wdata[p*A_W+:A_W];
  end

  // The activation mask and each window's first element, indexed as arrays:
  // a variable part-select (win * WIN_BITS) would become a multiplier in synthesis.
  logic [WIN_BITS-1:0] act_mask_of[0:WINDOWS-1];
  logic [AA_W-1:0] act_base_of[0:WINDOWS-1];
  generate
    for (genvar w = 0; w < WINDOWS; w++) begin : g_window
      assign act_mask_of[w] = act_mask[w*WIN_BITS+:WIN_BITS];
      assign act_base_of[w] = AA_W'(w * WIN_BITS);
    end
  endgenerate

  // -------------------------------------------------------------- front end
  logic f_active;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [ROWC_W-1:0] f_slot;  // SHARED = 1: never LANE_ROWS, so its top bit may go unread
  /* verilator lint_on UNUSEDSIGNAL */
  logic [WIN_W-1:0] f_win;
  logic [MADDR_W-1:0] f_maddr;
  logic [WA_W-1:0] f_wbase;  // weight address of the window's first non-zero
  logic [WIN_BITS-1:0] f_wm, f_pairs;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [COUNT_W-1:0] f_weights;  // may be wider than a weight address
  /* verilator lint_on UNUSEDSIGNAL */

  assign mask_addr = f_maddr;  // the mask ROM's read address register
  assign f_wm = mask_data;
  assign f_pairs = f_wm & act_mask_of[f_win];
  masr_popcount #(.WIDTH(WIN_BITS)) u_window_weights (
      .bits (f_wm),
      .count(f_weights)
  );

  wire f_push = f_active & (|f_pairs);
  wire f_last_window = f_win == WIN_W'(WINDOWS - 1);
  wire [ENTRY_W-1:0] f_entry = {f_slot[SLOT_W-1:0], f_win, f_wbase, f_wm, f_pairs};

  // --------------------------------------------------- FIFO and back end head
  logic [ENTRY_W-1:0] fifo[0:FIFO_DEPTH-1];
  logic [PTR_W-1:0] rd_ptr, wr_ptr;
  logic [FILL_W-1:0] fill;

  logic cur_valid;
  logic [SLOT_W-1:0] cur_slot;
  logic [WIN_W-1:0] cur_win;
  logic [WA_W-1:0] cur_wbase;
  logic [WIN_BITS-1:0] cur_wm, cur_todo;

  logic [MACS-1:0] pick_valid;
  logic [MACS*WA_W-1:0] pick_waddr;
  logic [MACS*AA_W-1:0] pick_aaddr;
  logic [WIN_BITS-1:0] remaining;

  masr_pair_picker #(
      .WIN_BITS(WIN_BITS),
      .MACS(MACS),
      .WA_W(WA_W),
      .AA_W(AA_W)
  ) u_picker (
      .todo(cur_todo),
      .weight_mask(cur_wm),
      .weight_base(cur_wbase),
      .act_base(act_base_of[cur_win]),
      .pick_valid(pick_valid),
      .weight_addr(pick_waddr),
      .act_addr(pick_aaddr),
      .remaining(remaining)
  );

  // The head window is finished this cycle: take the next one from the FIFO,
  // or straight from the front end when the FIFO is empty.
  wire need_next = ~cur_valid | ~(|remaining);
  wire fifo_empty = fill == '0;
  wire fifo_full = fill == FILL_W'(FIFO_DEPTH);
  wire pop = need_next & ~fifo_empty;
  wire bypass = need_next & fifo_empty & f_push;
  wire f_stall = f_push & fifo_full & ~pop;
  wire fifo_write = f_push & ~f_stall & ~bypass;
  wire f_advance = f_active & ~f_stall;
  wire [ENTRY_W-1:0] next_entry = fifo_empty ? f_entry : fifo[rd_ptr];

  function automatic logic [PTR_W-1:0] next_ptr(input logic [PTR_W-1:0] ptr);
    next_ptr = ptr == PTR_W'(FIFO_DEPTH - 1) ? '0 : ptr + 1'b1;
  endfunction

  assign slot = f_slot[SLOT_W-1:0];
  generate
    if (SHARED == 0) begin : g_own_rows
      wire f_last_row = f_slot == n_rows - 1'b1;
      assign take = 1'b0;
      always_ff @(posedge clk) begin : front_end
        if (rst) begin
          f_active <= 1'b0;
        end else if (start) begin
          f_active <= n_rows != '0;
          f_slot <= '0;
          f_win <= '0;
          f_maddr <= '0;
          f_wbase <= '0;
        end else if (f_advance) begin
          f_wbase <= f_wbase + WA_W'(f_weights);
          f_maddr <= f_maddr + 1'b1;
          if (f_last_window) begin
            f_win <= '0;
            f_slot <= f_slot + 1'b1;
            if (f_last_row) f_active <= 1'b0;
          end else begin
            f_win <= f_win + 1'b1;
          end
        end
      end
    end else begin : g_shared_rows
      // The slot's first weight (slot_base, read through the registered slot)
      // plus the weights of the row's windows examined so far.
      logic [WA_W-1:0] f_woff;
      wire f_row_done = f_advance & f_last_window;  // the row's last window examined this cycle
      assign take = start | f_row_done;
      assign f_wbase = slot_base + f_woff;
      always_ff @(posedge clk) begin : front_end
        if (rst) begin
          f_active <= 1'b0;
        end else if (start || f_row_done) begin
          f_active <= grant;
          if (grant) begin
            f_slot <= grant_slot;
            f_maddr <= MADDR_W'(32'(grant_slot) * WINDOWS);
          end
          f_win <= '0;
          f_woff <= '0;
        end else if (f_advance) begin
          f_woff <= f_woff + WA_W'(f_weights);
          f_maddr <= f_maddr + 1'b1;
          f_win <= f_win + 1'b1;
        end
      end
    end
  endgenerate

  always_ff @(posedge clk) if (fifo_write) fifo[wr_ptr] <= f_entry;

  always_ff @(posedge clk) begin : queue
    if (rst || start) begin
      rd_ptr <= '0;
      wr_ptr <= '0;
      fill <= '0;
    end else begin
      if (fifo_write) wr_ptr <= next_ptr(wr_ptr);
      if (pop) rd_ptr <= next_ptr(rd_ptr);
      fill <= fill + FILL_W'(fifo_write) - FILL_W'(pop);
    end
  end

  always_ff @(posedge clk) begin : head
    if (rst || start) begin
      cur_valid <= 1'b0;
    end else if (need_next) begin
      cur_valid <= pop | bypass;
      {cur_slot, cur_win, cur_wbase, cur_wm, cur_todo} <= next_entry;
    end else begin
      cur_todo <= remaining;
    end
  end

  // ------------------------------------------------------------------- MACs
  logic [MACS-1:0] r_valid;
  logic [MACS*WA_W-1:0] r_waddr;
  logic [MACS*AA_W-1:0] r_aaddr;
  logic [SLOT_W-1:0] r_slot;
  assign weight_addr = r_waddr;

  always_ff @(posedge clk) begin : issue
    if (rst || start) r_valid <= '0;
    else r_valid <= pick_valid & {MACS{cur_valid}};
    r_waddr <= pick_waddr;  // also the weight ROM's read address registers
    r_aaddr <= pick_aaddr;
    r_slot  <= cur_slot;
  end

  logic p_valid;
  logic [SLOT_W-1:0] p_slot;
  logic [MACS*ACC_W-1:0] quantised;

  generate
    for (genvar j = 0; j < MACS; j++) begin : g_mac
      logic [W_W-1:0] weight;
      logic [A_W-1:0] act;
      logic signed [P_W-1:0] weight_ext, act_ext, full_product;
      // The element's row, then the element in it (both from the address register).
      localparam int EI_W = AA_W > 5 ? AA_W : 5;
      wire [EI_W-1:0] element = EI_W'(r_aaddr[j*AA_W+:AA_W]);
      logic [MB*A_W-1:0] act_row;
      logic [A_W-1:0] act_of[0:MB-1];
      assign act_row = act_ram[ROW_W'(element >> 5)];
      for (genvar e = 0; e < MB; e++) begin : g_elem
        assign act_of[e] = act_row[e*A_W+:A_W];
      end
      assign weight = weight_data[j*W_W+:W_W];
      assign act = act_of[element[4:0]];
      assign weight_ext = {{(P_W - W_W) {W_SIGNED != 0 && weight[W_W-1]}}, weight};
      assign act_ext = {{(P_W - A_W) {A_SIGNED != 0 && act[A_W-1]}}, act};
      // A signed multiply of sign-extended operands: synthesis narrows it to one DSP.
      assign full_product = weight_ext * act_ext;
      // A zero product quantises to zero in every rounding mode, so idle MACs add nothing.
      logic [P_W-1:0] product;
      always_ff @(posedge clk) product <= r_valid[j] ? full_product : '0;

      masr_quantize #(
          .IN_W(P_W),
          .SHIFT(PROD_SHIFT),
          .OUT_W(ACC_W),
          .ROUNDING(ROUNDING)
      ) u_quantize (
          .value(product),
          .quantised(quantised[j*ACC_W+:ACC_W])
      );
    end
  endgenerate

  always_ff @(posedge clk) begin : multiply
    if (rst || start) p_valid <= 1'b0;
    else p_valid <= |r_valid;
    p_slot <= r_slot;
  end

  // ------------------------------------------------------------- accumulate
  // Wrap-around sums: the order in which MACs and windows add cannot matter.
  logic [ACC_W-1:0] group_sum, acc, acc_next;
  logic [SLOT_W-1:0] acc_slot;
  logic acc_valid;

  always_comb begin : add_group
    group_sum = '0;
    for (int j = 0; j < MACS; j++) group_sum = group_sum + quantised[j*ACC_W+:ACC_W];
  end
  assign acc_next = acc_valid && acc_slot == p_slot ? acc + group_sum : group_sum;

  always_ff @(posedge clk) begin : accumulate
    if (rst || start) begin
      acc_valid <= 1'b0;
    end else if (p_valid) begin
      acc_valid <= 1'b1;
      acc <= acc_next;
      acc_slot <= p_slot;
    end
  end

  assign res_we = p_valid;
  assign res_slot = p_slot;
  assign res_data = acc_next;
  assign busy = f_active | cur_valid | ~fifo_empty | (|r_valid) | p_valid;
endmodule
