// A GRU or LSTM layer in RTL: the sequence buffer, one cell per direction
// (masr_rnn_cell) and, for a Bidirectional layer, the merge.  The twin of
// rnn_layer / bidirectional_layer in templates/masr/rnn_layer.h.
//
// Use: stream the T x N_IN input elements (frame by frame) through
// in_valid / in_data while in_ready, then pulse start with n_frames = T.
// Outputs leave as a stream: each out_valid cycle carries up to OUT_K values,
// value k of frame out_frame[k] at position out_index[k] when out_keep[k].
//
// DIRS = 1: one sweep (BACKWARD = go_backwards); states stream out as the
//   cell writes them, step i to frame i.
// DIRS = 2: the forward and the backward cell run at the same time, each
//   reading the buffer through its own port; the backward cell writes the
//   state of step i to the frame it read (T-1-i), so both state buffers are
//   in input time.  When both are done the merge pass goes through each
//   output frame in index order, one group of GU = min(LANES, UNITS) outputs
//   per cycle (what lets the producer pack the frame as it writes it,
//   docs/arithmetic.md "Sequence storage"): sum / mul / ave merge a group of
//   both directions' states, concat copies the forward half's groups, then
//   the backward half's.  With last_only (Keras return_sequences=False) it
//   merges the forward state of frame T-1 with the backward state of frame 0,
//   as one output frame.
// SPLIT = 1 (DIRS = 2, concat into a compact store that another layer reads:
//   docs/arithmetic.md, "Split stores"): no state buffers and no merge pass.
//   Each cell's states leave as it writes them, the forward group in values
//   0..GU-1 and the backward group (positions UNITS + ...) in GU..2GU-1, each
//   with its own frame (the two cells write different frames in the same
//   cycle); with last_only only the final states, as frame 0.  done when both
//   cells are done.
// ENTRY = 1: the model's first layer, whose frames come from the dense input
//   port and are encoded once on entry: the sweeps wait for frame 0's
//   encoding, mask words(N_IN) cycles (the cells' PRE phase).
// Weights: MEM_DIR/fwd and MEM_DIR/bwd (see masr_rnn_cell).
module masr_rnn_layer #(
    parameter int N_IN = 8,
    parameter int UNITS = 8,
    parameter int LANES = 1,
    parameter int MACS = 1,
    parameter int SCAN_WORDS = 4,
    parameter int FIFO_DEPTH = 4,
    parameter int K_ROWS = 24,
    parameter int K_NNZ = 192,
    parameter int R_ROWS = 24,
    parameter int R_NNZ = 192,
    parameter int BANK_LANES = 1,  // lanes sharing a weight bank (masr_rnn_cell)
    parameter int IN_W = 16,
    parameter int IN_FRAC = 10,
    parameter int IN_SIGNED = 1,
    parameter int W_W = 16,
    parameter int W_FRAC = 10,
    parameter int W_SIGNED = 1,
    parameter int RW_W = 16,
    parameter int RW_FRAC = 10,
    parameter int RW_SIGNED = 1,
    parameter int B_W = 16,
    parameter int B_FRAC = 10,
    parameter int B_SIGNED = 1,
    parameter int ACC_W = 32,
    parameter int ACC_FRAC = 20,
    parameter int ACC_ROUNDING = 0,
    parameter int ST_W = 16,
    parameter int ST_FRAC = 10,
    parameter int ST_SIGNED = 1,
    parameter int ST_ROUNDING = 0,
    parameter int ST_OVERFLOW = 0,
    parameter int G_W = 16,
    parameter int G_FRAC = 15,
    parameter int G_SIGNED = 0,
    parameter int G_ROUNDING = 0,
    parameter int G_OVERFLOW = 0,
    parameter int C_W = 16,
    parameter int C_FRAC = 10,
    parameter int C_SIGNED = 1,
    parameter int C_ROUNDING = 0,
    parameter int C_OVERFLOW = 0,
    parameter int ACT = 0,
    parameter int REC = 0,
    parameter int ACT_N = 10,
    parameter int ACT_R = 3,
    parameter int REC_N = 10,
    parameter int REC_R = 3,
    parameter int KIND = 0,  // 0 GRU, 1 LSTM
    parameter int CL_W = 20,  // LSTM cell state c
    parameter int CL_FRAC = 12,
    parameter int CL_SIGNED = 1,
    parameter int CL_ROUNDING = 0,
    parameter int CL_OVERFLOW = 0,
    parameter int RESET_AFTER = 1,  // GRU, 0: Keras reset_after=False (a U_h engine per cell)
    parameter int H_ROWS = 8,
    parameter int H_NNZ = 64,
    parameter int MAX_T = 8,
    parameter int DIRS = 1,
    parameter int BACKWARD = 0,  // DIRS = 1 only: Keras go_backwards
    parameter int MERGE = 0,  // DIRS = 2: 0 concat, 1 sum, 2 mul, 3 ave
    parameter int O_W = 16,
    parameter int O_FRAC = 10,
    parameter int O_SIGNED = 1,
    parameter int O_ROUNDING = 0,
    parameter int O_OVERFLOW = 0,
    parameter int ENTRY = 0,
    parameter int SPLIT = 0,
    parameter MEM_DIR = ".",
    // derived
    parameter int T_W = $clog2(MAX_T + 1),
    parameter int N_OUT = DIRS == 2 && MERGE == 0 ? 2 * UNITS : UNITS,
    parameter int GU = LANES < UNITS ? LANES : UNITS,  // gate units per cell
    parameter int OUT_K = SPLIT != 0 ? 2 * GU : GU,
    parameter int OI_W = $clog2(N_OUT + 1)
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 in_valid,
    output logic                 in_ready,
    input  logic [IN_W-1:0]      in_data,
    input  logic [T_W-1:0]       n_frames,
    input  logic                 last_only,
    input  logic                 start,
    output logic                 busy,
    output logic                 done,
    output logic                 out_valid,
    output logic [OUT_K*T_W-1:0] out_frame,
    output logic [OUT_K-1:0]     out_keep,
    output logic [OUT_K*OI_W-1:0] out_index,
    output logic [OUT_K*O_W-1:0] out_data,
    output logic [1:0]           dir_busy,  // per direction: its sweep is running
    output logic [1:0]           stat_valid,  // per direction: a step's cycle counts
    output logic [2*32-1:0]      stat_kernel,
    output logic [2*32-1:0]      stat_recurrent,
    output logic [2*32-1:0]      stat_step
);
  localparam int XE_W = N_IN > 1 ? $clog2(N_IN) : 1;
  localparam int XF_W = MAX_T > 1 ? $clog2(MAX_T) : 1;
  localparam int NG = (UNITS + GU - 1) / GU;
  localparam int NG_W = NG > 1 ? $clog2(NG) : 1;
  localparam int HA_W = MAX_T * NG > 1 ? $clog2(MAX_T * NG) : 1;

  // ------------------------------------------------- the input sequence
  // Kept whole (the backward direction starts at the last frame), one frame
  // a word: each cell's kernel chain reads a whole frame per cycle.
  logic [N_IN*IN_W-1:0] x_buf[0:MAX_T-1];
  logic [T_W-1:0] wr_frame;
  logic [XE_W-1:0] wr_elem;
  logic running;
  assign in_ready = ~running;
  assign busy = running;
  always_ff @(posedge clk) begin : fill
    if (rst || (start && !running)) begin
      wr_frame <= '0;
      wr_elem <= '0;
    end else if (in_valid && !running) begin
      x_buf[XF_W'(wr_frame)][32'(wr_elem)*IN_W+:IN_W] <= in_data;
      if (wr_elem == XE_W'(N_IN - 1)) begin
        wr_elem <= '0;
        wr_frame <= wr_frame + 1'b1;
      end else begin
        wr_elem <= wr_elem + 1'b1;
      end
    end
  end

  logic [T_W-1:0] x_addr[0:1];
  logic [N_IN*IN_W-1:0] x_data[0:1];
  logic [1:0] cell_done, h_we;
  logic [T_W-1:0] h_slot[0:1];
  logic [NG_W-1:0] h_group[0:1];
  logic [GU*ST_W-1:0] h_data[0:1];
  wire launch = start & ~running;

  generate
    for (genvar d = 0; d < 2; d++) begin : g_dir
      if (d < DIRS) begin : g_cell
        always_ff @(posedge clk) x_data[d] <= x_buf[XF_W'(x_addr[d])];
        masr_rnn_cell #(
            .N_IN(N_IN), .UNITS(UNITS), .LANES(LANES), .MACS(MACS), .SCAN_WORDS(SCAN_WORDS), .FIFO_DEPTH(FIFO_DEPTH),
            .K_ROWS(K_ROWS), .K_NNZ(K_NNZ), .R_ROWS(R_ROWS), .R_NNZ(R_NNZ), .BANK_LANES(BANK_LANES),
            .IN_W(IN_W), .IN_FRAC(IN_FRAC), .IN_SIGNED(IN_SIGNED), .W_W(W_W), .W_FRAC(W_FRAC), .W_SIGNED(W_SIGNED),
            .RW_W(RW_W), .RW_FRAC(RW_FRAC), .RW_SIGNED(RW_SIGNED), .B_W(B_W), .B_FRAC(B_FRAC), .B_SIGNED(B_SIGNED),
            .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC), .ACC_ROUNDING(ACC_ROUNDING),
            .ST_W(ST_W), .ST_FRAC(ST_FRAC), .ST_SIGNED(ST_SIGNED), .ST_ROUNDING(ST_ROUNDING), .ST_OVERFLOW(ST_OVERFLOW),
            .G_W(G_W), .G_FRAC(G_FRAC), .G_SIGNED(G_SIGNED), .G_ROUNDING(G_ROUNDING), .G_OVERFLOW(G_OVERFLOW),
            .C_W(C_W), .C_FRAC(C_FRAC), .C_SIGNED(C_SIGNED), .C_ROUNDING(C_ROUNDING), .C_OVERFLOW(C_OVERFLOW),
            .ACT(ACT), .REC(REC), .ACT_N(ACT_N), .ACT_R(ACT_R), .REC_N(REC_N), .REC_R(REC_R), .MAX_T(MAX_T),
            .KIND(KIND), .CL_W(CL_W), .CL_FRAC(CL_FRAC), .CL_SIGNED(CL_SIGNED), .CL_ROUNDING(CL_ROUNDING),
            .CL_OVERFLOW(CL_OVERFLOW), .RESET_AFTER(RESET_AFTER), .H_ROWS(H_ROWS), .H_NNZ(H_NNZ),
            .BACKWARD(d == 1 ? 1 : BACKWARD), .REALIGN(d == 1 ? 1 : 0), .ENTRY(ENTRY),
            .MEM_DIR({MEM_DIR, d == 1 ? "/bwd" : "/fwd"})
        ) u_cell (
            .clk(clk), .rst(rst), .start(launch), .n_frames(n_frames), .busy(dir_busy[d]), .done(cell_done[d]),
            .x_addr(x_addr[d]), .x_data(x_data[d]), .h_we(h_we[d]), .h_slot(h_slot[d]), .h_group(h_group[d]),
            .h_data(h_data[d]), .stat_valid(stat_valid[d]), .stat_kernel(stat_kernel[d*32+:32]),
            .stat_recurrent(stat_recurrent[d*32+:32]), .stat_step(stat_step[d*32+:32])
        );
      end else begin : g_none
        assign {dir_busy[d], cell_done[d], h_we[d], stat_valid[d]} = '0;
        assign {x_addr[d], h_slot[d], h_group[d], h_data[d]} = '0;
        assign {stat_kernel[d*32+:32], stat_recurrent[d*32+:32], stat_step[d*32+:32]} = '0;
        /* verilator lint_off UNUSEDSIGNAL */
        logic [N_IN*IN_W-1:0] x_unused;
        /* verilator lint_on UNUSEDSIGNAL */
        assign x_unused = x_data[d];
        assign x_data[d] = '0;
      end
    end

    if (DIRS == 1) begin : g_single
      // States leave as the cell writes them: its slot is the output frame.
      logic finished;
      assign finished = cell_done[0];
      /* verilator lint_off UNUSEDSIGNAL */
      logic [2:0] unused;  // the second direction's ports and the merge's input
      /* verilator lint_on UNUSEDSIGNAL */
      assign unused = {cell_done[1], h_we[1], last_only};
      assign out_valid = h_we[0];
      for (genvar l = 0; l < GU; l++) begin : g_out
        assign out_frame[l*T_W+:T_W] = h_slot[0];
        assign out_index[l*OI_W+:OI_W] = OI_W'(h_group[0] * GU + l);
        assign out_keep[l] = h_group[0] * GU + l < UNITS;
        assign out_data[l*O_W+:O_W] = h_data[0][l*ST_W+:ST_W];
      end
      always_ff @(posedge clk) begin
        if (rst) running <= 1'b0;
        else if (launch) running <= 1'b1;
        else if (finished) running <= 1'b0;
      end
      assign done = finished;
    end else if (SPLIT != 0) begin : g_split
      // Each cell's states leave as it writes them, cast to the output type.
      logic f_fin, b_fin, s_last_only;
      logic [T_W-1:0] s_frames;
      wire finished = running && (f_fin | cell_done[0]) && (b_fin | cell_done[1]);
      always_ff @(posedge clk) begin : split_control
        if (rst) begin
          running <= 1'b0;
        end else begin
          if (launch) begin
            running <= 1'b1;
            f_fin <= 1'b0;
            b_fin <= 1'b0;
            s_frames <= n_frames;
            s_last_only <= last_only;
          end
          if (cell_done[0]) f_fin <= 1'b1;
          if (cell_done[1]) b_fin <= 1'b1;
          if (finished) running <= 1'b0;
        end
      end
      assign done = finished;
      // last_only: the forward state of frame T-1 and the backward state of frame 0, as frame 0.
      wire f_we = h_we[0] && (!s_last_only || h_slot[0] == s_frames - 1'b1);
      wire b_we = h_we[1] && (!s_last_only || h_slot[1] == '0);
      assign out_valid = f_we | b_we;
      for (genvar l = 0; l < GU; l++) begin : g_out
        logic [O_W-1:0] yf, yb;
        masr_merge_unit #(
            .ST_W(ST_W), .ST_FRAC(ST_FRAC), .ST_SIGNED(ST_SIGNED), .MODE(MERGE),
            .O_W(O_W), .O_FRAC(O_FRAC), .O_SIGNED(O_SIGNED), .O_ROUNDING(O_ROUNDING), .O_OVERFLOW(O_OVERFLOW)
        ) u_cast (
            .a (h_data[0][l*ST_W+:ST_W]),
            .b (h_data[1][l*ST_W+:ST_W]),
            .y0(yf),
            .y1(yb)
        );
        wire [OI_W-1:0] uf = OI_W'(h_group[0] * GU + l), ub = OI_W'(h_group[1] * GU + l);
        assign out_keep[l] = f_we && h_group[0] * GU + l < UNITS;
        assign out_keep[GU+l] = b_we && h_group[1] * GU + l < UNITS;
        assign out_frame[l*T_W+:T_W] = s_last_only ? '0 : h_slot[0];
        assign out_frame[(GU+l)*T_W+:T_W] = s_last_only ? '0 : h_slot[1];
        assign out_index[l*OI_W+:OI_W] = uf;
        assign out_index[(GU+l)*OI_W+:OI_W] = ub + OI_W'(UNITS);
        assign out_data[l*O_W+:O_W] = yf;
        assign out_data[(GU+l)*O_W+:O_W] = yb;
      end
    end else begin : g_merge
      // Both directions' states in input time, one word per group of GU units.
      logic [GU*ST_W-1:0] h_buf_f[0:MAX_T*NG-1], h_buf_b[0:MAX_T*NG-1];
      always_ff @(posedge clk) begin : write_states
        if (h_we[0]) h_buf_f[HA_W'(32'(h_slot[0]) * NG + 32'(h_group[0]))] <= h_data[0];
        if (h_we[1]) h_buf_b[HA_W'(32'(h_slot[1]) * NG + 32'(h_group[1]))] <= h_data[1];
      end

      // Groups per output frame: concat the forward half's NG, then the backward half's.
      localparam int MG = MERGE == 0 ? 2 * NG : NG;
      localparam int MG_W = MG > 1 ? $clog2(MG) : 1;
      logic f_fin, b_fin, merging, m_valid, m_last_only, m_second;
      logic [T_W-1:0] mt, m_frames, m_frame;
      logic [MG_W-1:0] mg;
      logic [NG_W-1:0] m_group;
      logic [GU*ST_W-1:0] m_f, m_b;
      wire [T_W-1:0] tf = m_last_only ? m_frames - 1'b1 : mt;
      wire [T_W-1:0] tb = m_last_only ? '0 : mt;
      wire [T_W-1:0] out_frames = m_last_only ? T_W'(1) : m_frames;
      wire m_last = mg == MG_W'(MG - 1) && mt == out_frames - 1'b1;
      wire second_half = MERGE == 0 && 32'(mg) >= NG;  // concat: the backward half's groups
      wire [NG_W-1:0] mg_half = NG_W'(second_half ? 32'(mg) - NG : 32'(mg));

      always_ff @(posedge clk) begin : merge_control
        if (rst) begin
          running <= 1'b0;
          merging <= 1'b0;
          m_valid <= 1'b0;
          done <= 1'b0;
        end else begin
          done <= 1'b0;
          m_valid <= merging;
          if (launch) begin
            running <= 1'b1;
            f_fin <= 1'b0;
            b_fin <= 1'b0;
            m_frames <= n_frames;
            m_last_only <= last_only;
          end
          if (cell_done[0]) f_fin <= 1'b1;
          if (cell_done[1]) b_fin <= 1'b1;
          if (running && !merging && !m_valid && (f_fin | cell_done[0]) && (b_fin | cell_done[1])) begin
            merging <= 1'b1;
            f_fin <= 1'b0;
            b_fin <= 1'b0;
            mt <= '0;
            mg <= '0;
          end
          if (merging) begin
            if (second_half) m_f <= h_buf_b[HA_W'(32'(tb) * NG + 32'(mg_half))];  // concat: a backward group
            else m_f <= h_buf_f[HA_W'(32'(tf) * NG + 32'(mg_half))];
            m_b <= h_buf_b[HA_W'(32'(tb) * NG + 32'(mg_half))];
            m_frame <= mt;
            m_group <= mg_half;
            m_second <= second_half;
            if (mg == MG_W'(MG - 1)) begin
              mg <= '0;
              mt <= mt + 1'b1;
            end else begin
              mg <= mg + 1'b1;
            end
            if (m_last) merging <= 1'b0;
          end
          if (m_valid && !merging) begin  // the last group leaves this cycle
            running <= 1'b0;
            done <= 1'b1;
          end
        end
      end

      assign out_valid = m_valid;
      for (genvar l = 0; l < GU; l++) begin : g_out
        assign out_frame[l*T_W+:T_W] = m_frame;
        /* verilator lint_off UNUSEDSIGNAL */
        logic [O_W-1:0] y0, y1;  // y1: concat's second input, not used (one half per cycle)
        /* verilator lint_on UNUSEDSIGNAL */
        masr_merge_unit #(
            .ST_W(ST_W), .ST_FRAC(ST_FRAC), .ST_SIGNED(ST_SIGNED), .MODE(MERGE),
            .O_W(O_W), .O_FRAC(O_FRAC), .O_SIGNED(O_SIGNED), .O_ROUNDING(O_ROUNDING), .O_OVERFLOW(O_OVERFLOW)
        ) u_merge (
            .a (m_f[l*ST_W+:ST_W]),
            .b (m_b[l*ST_W+:ST_W]),
            .y0(y0),
            .y1(y1)
        );
        wire [OI_W-1:0] unit = OI_W'(m_group * GU + l);
        assign out_keep[l] = m_group * GU + l < UNITS;
        assign out_index[l*OI_W+:OI_W] = m_second ? unit + OI_W'(UNITS) : unit;
        assign out_data[l*O_W+:O_W] = y0;
      end
    end
  endgenerate
endmodule
