// One direction of a GRU (KIND=0) or LSTM (KIND=1) layer over a sequence: the
// kernel engine W x and the recurrent engine U h (two masr_mxv instances),
// the state h (and the LSTM cell state c), and min(LANES, UNITS) gate units
// (masr_gru_unit or masr_lstm_unit) for the elementwise pass.
// The twin of rnn_sweep / rnn_step in templates/masr/rnn_layer.h, rnn_cell.h,
// and the schedule of docs/arithmetic.md ("Cycles of a cell and a layer").
//
// Two chains run at the same time:
//   kernel chain     frame x_{t+1} (one whole frame from the layer's buffer)
//                    is encoded one mask word per cycle (KW cycles), the
//                    kernel engine starts the next cycle and runs K_{t+1}
//                    cycles: KX = KW + 1 + K.
//   recurrent chain  h_t is encoded the same way (UW cycles), the recurrent
//                    engine starts and runs R_t cycles, then ceil(UNITS /
//                    LANES) groups of gate units issue one per cycle and
//                    leave the pipeline four cycles later, writing h:
//                    RH = UW + 1 + R + ceil(UNITS / LANES) + 4.
// A step begins both chains together (the kernel results of frame t, ready
// since the previous step, are copied to xw in the step's first cycle, so
// the kernel engine is free for x_{t+1}) and ends when both have ended:
// max(RH_t, KX_{t+1}) cycles.  Before step 0: one cycle to read frame 0
// (with ENTRY = 1, the model's first layer, KW more: frame 0 is encoded on
// entry before it can be loaded), then KX_0.  A sweep takes
// 1 + ENTRY x KW + KX_0 + sum over t of max(RH_t, KX_{t+1}).
// The frame is loaded into the kernel engine one mask word per cycle (KW
// cycles): the count of docs/arithmetic.md's load of a compact frame.
// RESET_AFTER=0 (Keras reset_after=False): U has the 2 UNITS rows of z and r;
// the first gate pass stores rh = r * h, which is encoded and run through a
// third engine U_h (MEM_DIR/recurrent_h) before the second gate pass
// computes h' (z is recomputed from the held results): RH doubles its
// encode, start and gate terms and adds the U_h engine.
// Weights: MEM_DIR/kernel and MEM_DIR/recurrent hold the engines' banks
// (masr_hls.rtl.write_weight_files); MEM_DIR holds bias.hex,
// recurrent_bias.hex, act_table.hex and rec_table.hex.
module masr_rnn_cell #(
    parameter int N_IN = 8,
    parameter int UNITS = 8,
    parameter int LANES = 1,
    parameter int MACS = 1,
    parameter int SCAN_WORDS = 4,
    parameter int FIFO_DEPTH = 4,
    parameter int K_ROWS = 24,  // bank sizes of the two engines
    parameter int K_NNZ = 192,
    parameter int R_ROWS = 24,
    parameter int R_NNZ = 192,
    parameter int BANK_LANES = 1,  // lanes sharing each engine's weight banks (1: static balancing)
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
    parameter int RESET_AFTER = 1,  // GRU only
    parameter int H_ROWS = 8,  // lane banks of U_h (RESET_AFTER=0)
    parameter int H_NNZ = 64,
    parameter int MAX_T = 8,
    parameter int BACKWARD = 0,  // visit frames T-1 .. 0
    parameter int REALIGN = 0,  // write step i's state to the frame it read (Bidirectional's backward half)
    parameter int ENTRY = 0,  // the model's first layer: frame 0 is encoded on entry (KW cycles) before its load
    parameter MEM_DIR = ".",
    // derived
    parameter int T_W = $clog2(MAX_T + 1),
    parameter int GU = LANES < UNITS ? LANES : UNITS,  // gate units: one per lane, never idle ones
    parameter int NG = (UNITS + GU - 1) / GU,  // gate groups per step
    parameter int NG_W = NG > 1 ? $clog2(NG) : 1
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  start,
    input  logic [T_W-1:0]        n_frames,
    output logic                  busy,
    output logic                  done,
    output logic [T_W-1:0]        x_addr,  // a frame
    input  logic [N_IN*IN_W-1:0]  x_data,  // the frame x_addr named one cycle earlier
    output logic                  h_we,
    output logic [T_W-1:0]        h_slot,
    output logic [NG_W-1:0]       h_group,
    output logic [GU*ST_W-1:0]    h_data,
    output logic                  stat_valid,  // one step finished: its cycle counts follow
    output logic [31:0]           stat_kernel,
    output logic [31:0]           stat_recurrent,
    output logic [31:0]           stat_step
);
  localparam int G_ROWS = (KIND == 1 ? 4 : 3) * UNITS;  // Keras gate order: z r h, or i f c o
  localparam int R_OUT = KIND == 1 || RESET_AFTER != 0 ? G_ROWS : 2 * UNITS;  // rows of U
  localparam int KW = (N_IN + 31) / 32;  // encode cycles: mask words of x and of h
  localparam int UW = (UNITS + masr_constants::MASK_BITS - 1) / masr_constants::MASK_BITS;
  localparam int LD_W = $clog2((KW > UW ? KW : UW) + 1) + 1;
  localparam int GC_W = $clog2(NG + 4) + 1;

  typedef enum logic [2:0] {
    IDLE,
    PRE,  // frame 0's address is out
    FIRST,  // the kernel chain of frame 0
    LOAD,  // the recurrent chain: encode h (or rh)
    RUN,  // the recurrent engine (or U_h)
    GATE,  // the gate pass
    WAIT  // the recurrent chain is over, the kernel chain is not
  } phase_t;
  phase_t phase;

  logic [T_W-1:0] step, frame, frames, kframe;
  logic [LD_W-1:0] ld, kld;
  logic [GC_W-1:0] gc;
  logic launch, k_launch, k_loading, k_fin;
  logic step_first;  // the first cycle of a step
  logic second;  // RESET_AFTER=0: the U_h pass of the step
  logic [ST_W*UNITS-1:0] h_vec;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [ST_W*UNITS-1:0] rh_vec;  // read only with RESET_AFTER=0
  /* verilator lint_on UNUSEDSIGNAL */
  logic [G_ROWS*ACC_W-1:0] xw;  // W x_t + nothing: the kernel results of this step's frame
  /* verilator lint_off UNUSEDSIGNAL */
  logic [ST_W-1:0] rh_state[0:UNITS-1];  // read only with RESET_AFTER=0
  /* verilator lint_on UNUSEDSIGNAL */
  logic [31:0] step_cycles, k_cycles, r_cycles;
  logic [ST_W-1:0] h_state[0:UNITS-1];
  /* verilator lint_off UNUSEDSIGNAL */
  logic [CL_W-1:0] c_state[0:UNITS-1];  // read only by LSTM units
  /* verilator lint_on UNUSEDSIGNAL */

  // ------------------------------------------------------------ engines
  logic k_ready, k_done, k_busy, r_ready, r_done, r_busy;
  logic [G_ROWS*ACC_W-1:0] k_y;
  logic [R_OUT*ACC_W-1:0] r_y;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [UNITS*ACC_W-1:0] hh_y;  // U_h (r * h): GRU reset_after=False only
  /* verilator lint_on UNUSEDSIGNAL */
  for (genvar j = 0; j < UNITS; j++) begin : g_vec
    assign h_vec[j*ST_W+:ST_W] = h_state[j];
    assign rh_vec[j*ST_W+:ST_W] = rh_state[j];
  end
  logic hh_done, hh_busy;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [ACC_W-1:0] k_y_row, r_y_row;  // row-at-a-time port, not used here
  logic k_ready_unused, r_ready_unused;
  /* verilator lint_on UNUSEDSIGNAL */
  assign k_ready_unused = k_ready;
  assign r_ready_unused = r_ready;

  masr_mxv #(
      .N_IN(N_IN), .N_OUT(G_ROWS), .LANES(LANES), .MACS(MACS), .SCAN_WORDS(SCAN_WORDS),
      .LANE_ROWS(K_ROWS), .LANE_NNZ(K_NNZ), .BANK_LANES(BANK_LANES), .W_W(W_W), .W_FRAC(W_FRAC), .W_SIGNED(W_SIGNED),
      .A_W(IN_W), .A_FRAC(IN_FRAC), .A_SIGNED(IN_SIGNED), .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC),
      .ROUNDING(ACC_ROUNDING), .FIFO_DEPTH(FIFO_DEPTH), .Y_ALL(1), .VEC(1), .MEM_DIR({MEM_DIR, "/kernel"})
  ) u_kernel (
      .clk(clk), .rst(rst), .in_valid(1'b0), .in_ready(k_ready), .in_data('0),
      .vec_load(k_go), .vec_data(x_data), .start(k_launch),
      .done(k_done), .busy(k_busy), .y_row('0), .y_data(k_y_row), .y_all(k_y)
  );

  masr_mxv #(
      .N_IN(UNITS), .N_OUT(R_OUT), .LANES(LANES), .MACS(MACS), .SCAN_WORDS(SCAN_WORDS),
      .LANE_ROWS(R_ROWS), .LANE_NNZ(R_NNZ), .BANK_LANES(BANK_LANES), .W_W(RW_W), .W_FRAC(RW_FRAC), .W_SIGNED(RW_SIGNED),
      .A_W(ST_W), .A_FRAC(ST_FRAC), .A_SIGNED(ST_SIGNED), .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC),
      .ROUNDING(ACC_ROUNDING), .FIFO_DEPTH(FIFO_DEPTH), .Y_ALL(1), .VEC(1), .MEM_DIR({MEM_DIR, "/recurrent"})
  ) u_recurrent (
      .clk(clk), .rst(rst), .in_valid(1'b0), .in_ready(r_ready), .in_data('0),
      .vec_load(phase == LOAD && !second && ld == '0), .vec_data(h_vec), .start(launch & ~second),
      .done(r_done), .busy(r_busy), .y_row('0), .y_data(r_y_row), .y_all(r_y)
  );

  generate
    if (RESET_AFTER == 0) begin : g_recurrent_h
      /* verilator lint_off UNUSEDSIGNAL */
      logic [ACC_W-1:0] hh_y_row;
      logic hh_ready;
      /* verilator lint_on UNUSEDSIGNAL */
      masr_mxv #(
          .N_IN(UNITS), .N_OUT(UNITS), .LANES(LANES), .MACS(MACS), .SCAN_WORDS(SCAN_WORDS),
          .LANE_ROWS(H_ROWS), .LANE_NNZ(H_NNZ), .BANK_LANES(BANK_LANES), .W_W(RW_W), .W_FRAC(RW_FRAC), .W_SIGNED(RW_SIGNED),
          .A_W(ST_W), .A_FRAC(ST_FRAC), .A_SIGNED(ST_SIGNED), .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC),
          .ROUNDING(ACC_ROUNDING), .FIFO_DEPTH(FIFO_DEPTH), .Y_ALL(1), .VEC(1), .MEM_DIR({MEM_DIR, "/recurrent_h"})
      ) u_recurrent_h (
          .clk(clk), .rst(rst), .in_valid(1'b0), .in_ready(hh_ready), .in_data('0),
          .vec_load(phase == LOAD && second && ld == '0), .vec_data(rh_vec),
          .start(launch & second), .done(hh_done), .busy(hh_busy), .y_row('0), .y_data(hh_y_row), .y_all(hh_y)
      );
    end else begin : g_no_recurrent_h
      assign hh_y = '0;
      assign hh_done = 1'b0;
      assign hh_busy = 1'b0;
    end
  endgenerate

  logic [B_W-1:0] bias[0:G_ROWS-1];
  /* verilator lint_off UNUSEDSIGNAL */
  logic [B_W-1:0] recurrent_bias[0:G_ROWS-1];  // zero except for GRU reset_after
  /* verilator lint_on UNUSEDSIGNAL */
  initial begin
    $readmemh({MEM_DIR, "/bias.hex"}, bias);
    $readmemh({MEM_DIR, "/recurrent_bias.hex"}, recurrent_bias);
  end

  // --------------------------------------------------------- gate units
  wire issue = phase == GATE && gc < GC_W'(NG);
  wire [NG_W-1:0] issue_group = NG_W'(gc);
  wire [NG_W-1:0] write_group = NG_W'(gc - GC_W'(4));
  /* verilator lint_off UNUSEDSIGNAL */
  logic [GU-1:0] unit_valid;  // all alike; units past UNITS in the last group never write
  /* verilator lint_on UNUSEDSIGNAL */
  logic [GU*ST_W-1:0] unit_h, unit_rh;
  logic [GU*CL_W-1:0] unit_c;
  wire first_of_two = RESET_AFTER == 0 && !second;  // this GATE pass stores rh, not h

  generate
    for (genvar l = 0; l < GU; l++) begin : g_unit
      // The operands of unit g * GU + l for every group g (constant
      // selections), then one mux by the group being issued.
      if (KIND == 1) begin : g_lstm
        logic [8*ACC_W-1:0] acc_of[0:NG-1];
        logic [4*B_W-1:0] bias_of[0:NG-1];
        logic [CL_W-1:0] c_of[0:NG-1];
        for (genvar g = 0; g < NG; g++) begin : g_group
          localparam int J = g * GU + l < UNITS ? g * GU + l : 0;  // padding units compute unit 0, unused
          assign acc_of[g] = {r_y[(3*UNITS+J)*ACC_W+:ACC_W], r_y[(2*UNITS+J)*ACC_W+:ACC_W],
                              r_y[(UNITS+J)*ACC_W+:ACC_W], r_y[J*ACC_W+:ACC_W],
                              xw[(3*UNITS+J)*ACC_W+:ACC_W], xw[(2*UNITS+J)*ACC_W+:ACC_W],
                              xw[(UNITS+J)*ACC_W+:ACC_W], xw[J*ACC_W+:ACC_W]};
          assign bias_of[g] = {bias[3*UNITS+J], bias[2*UNITS+J], bias[UNITS+J], bias[J]};
          assign c_of[g] = c_state[J];
        end
        masr_lstm_unit #(
            .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC), .ACC_ROUNDING(ACC_ROUNDING),
            .B_W(B_W), .B_FRAC(B_FRAC), .B_SIGNED(B_SIGNED),
            .ST_W(ST_W), .ST_FRAC(ST_FRAC), .ST_SIGNED(ST_SIGNED), .ST_ROUNDING(ST_ROUNDING), .ST_OVERFLOW(ST_OVERFLOW),
            .G_W(G_W), .G_FRAC(G_FRAC), .G_SIGNED(G_SIGNED), .G_ROUNDING(G_ROUNDING), .G_OVERFLOW(G_OVERFLOW),
            .C_W(C_W), .C_FRAC(C_FRAC), .C_SIGNED(C_SIGNED), .C_ROUNDING(C_ROUNDING), .C_OVERFLOW(C_OVERFLOW),
            .CL_W(CL_W), .CL_FRAC(CL_FRAC), .CL_SIGNED(CL_SIGNED), .CL_ROUNDING(CL_ROUNDING), .CL_OVERFLOW(CL_OVERFLOW),
            .ACT(ACT), .REC(REC), .ACT_N(ACT_N), .ACT_R(ACT_R), .REC_N(REC_N), .REC_R(REC_R), .MEM_DIR(MEM_DIR)
        ) u_unit (
            .clk(clk),
            .in_valid(issue),
            .acc(acc_of[issue_group]),
            .bias(bias_of[issue_group]),
            .c(c_of[issue_group]),
            .out_valid(unit_valid[l]),
            .h_new(unit_h[l*ST_W+:ST_W]),
            .c_new(unit_c[l*CL_W+:CL_W])
        );
        assign unit_rh[l*ST_W+:ST_W] = '0;
      end else begin : g_gru
        logic [6*ACC_W-1:0] acc_of[0:NG-1];
        logic [6*B_W-1:0] bias_of[0:NG-1];
        logic [ST_W-1:0] h_of[0:NG-1];
        for (genvar g = 0; g < NG; g++) begin : g_group
          localparam int J = g * GU + l < UNITS ? g * GU + l : 0;  // padding units compute unit 0, unused
          assign acc_of[g] = {RESET_AFTER != 0 ? r_y[(R_OUT-UNITS+J)*ACC_W+:ACC_W] : hh_y[J*ACC_W+:ACC_W],
                              r_y[(UNITS+J)*ACC_W+:ACC_W], r_y[J*ACC_W+:ACC_W],
                              xw[(2*UNITS+J)*ACC_W+:ACC_W], xw[(UNITS+J)*ACC_W+:ACC_W], xw[J*ACC_W+:ACC_W]};
          assign bias_of[g] = {recurrent_bias[2*UNITS+J], recurrent_bias[UNITS+J], recurrent_bias[J],
                               bias[2*UNITS+J], bias[UNITS+J], bias[J]};
          assign h_of[g] = h_state[J];
        end

        masr_gru_unit #(
            .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC), .ACC_ROUNDING(ACC_ROUNDING),
            .B_W(B_W), .B_FRAC(B_FRAC), .B_SIGNED(B_SIGNED),
            .ST_W(ST_W), .ST_FRAC(ST_FRAC), .ST_SIGNED(ST_SIGNED), .ST_ROUNDING(ST_ROUNDING), .ST_OVERFLOW(ST_OVERFLOW),
            .G_W(G_W), .G_FRAC(G_FRAC), .G_SIGNED(G_SIGNED), .G_ROUNDING(G_ROUNDING), .G_OVERFLOW(G_OVERFLOW),
            .C_W(C_W), .C_FRAC(C_FRAC), .C_SIGNED(C_SIGNED), .C_ROUNDING(C_ROUNDING), .C_OVERFLOW(C_OVERFLOW),
            .ACT(ACT), .REC(REC), .ACT_N(ACT_N), .ACT_R(ACT_R), .REC_N(REC_N), .REC_R(REC_R),
            .RESET_AFTER(RESET_AFTER), .MEM_DIR(MEM_DIR)
        ) u_unit (
            .clk(clk),
            .in_valid(issue),
            .acc(acc_of[issue_group]),
            .bias(bias_of[issue_group]),
            .h(h_of[issue_group]),
            .out_valid(unit_valid[l]),
            .h_new(unit_h[l*ST_W+:ST_W]),
            .rh_new(unit_rh[l*ST_W+:ST_W])
        );
        assign unit_c[l*CL_W+:CL_W] = '0;
      end

      for (genvar g = 0; g < NG; g++) begin : g_write
        if (g * GU + l < UNITS) begin : g_real
          always_ff @(posedge clk) begin
            if (phase == IDLE && start) begin
              h_state[g*GU+l] <= '0;
              c_state[g*GU+l] <= '0;
            end
            else if (unit_valid[l] && write_group == NG_W'(g) && !first_of_two) begin
              h_state[g*GU+l] <= unit_h[l*ST_W+:ST_W];
              c_state[g*GU+l] <= unit_c[l*CL_W+:CL_W];
            end
          end
          always_ff @(posedge clk) begin
            if (unit_valid[l] && write_group == NG_W'(g) && first_of_two) rh_state[g*GU+l] <= unit_rh[l*ST_W+:ST_W];
          end
        end
      end
    end
  endgenerate

  assign h_we = unit_valid[0] & ~first_of_two;
  assign h_group = write_group;
  assign h_data = unit_h;
  assign h_slot = REALIGN != 0 ? frame : step;

  // ------------------------------------------------------------- control
  assign busy = phase != IDLE;
  assign x_addr = kframe;
  wire has_next = step + 1'b1 < frames;  // a frame after this step's
  // The kernel chain has ended: its engine's done cycle, or later.
  wire k_end = k_fin | k_done;
  wire r_chain_end = (phase == GATE && gc == GC_W'(NG + 3) && !first_of_two) || phase == WAIT;
  wire step_end = r_chain_end && (k_end || !has_next);
  wire last_step = !has_next;
  wire k_go = (phase == FIRST && !k_loading && !k_fin && !k_launch && !k_busy) || (step_first && has_next);
  wire u_busy = r_busy | hh_busy;

  always_ff @(posedge clk) begin : kernel_chain
    if (rst) begin
      k_loading <= 1'b0;
      k_launch <= 1'b0;
      k_fin <= 1'b0;
    end else begin
      k_launch <= 1'b0;
      if (k_done) k_fin <= 1'b1;
      if (phase == IDLE && start) k_fin <= 1'b0;
      if (k_go) begin
        k_loading <= KW > 1;
        kld <= LD_W'(1);
        k_fin <= 1'b0;
        if (KW == 1) begin
          k_launch <= 1'b1;
          kframe <= BACKWARD != 0 ? kframe - 1'b1 : kframe + 1'b1;
        end
      end else if (k_loading) begin
        kld <= kld + 1'b1;
        if (kld == LD_W'(KW - 1)) begin
          k_loading <= 1'b0;
          k_launch <= 1'b1;
          kframe <= BACKWARD != 0 ? kframe - 1'b1 : kframe + 1'b1;  // the next frame's address goes out
        end
      end
      if (phase == IDLE && start) kframe <= BACKWARD != 0 ? n_frames - 1'b1 : '0;
    end
  end

  always_ff @(posedge clk) if (step_first) xw <= k_y;  // before the kernel engine restarts

  always_ff @(posedge clk) begin : control
    if (rst) begin
      phase <= IDLE;
      done <= 1'b0;
      stat_valid <= 1'b0;
      launch <= 1'b0;
      step_first <= 1'b0;
    end else begin
      done <= 1'b0;
      stat_valid <= 1'b0;
      launch <= 1'b0;
      step_first <= 1'b0;
      case (phase)
        IDLE:
        if (start && n_frames != '0) begin
          phase <= PRE;
          ld <= '0;
          frames <= n_frames;
          step <= '0;
          frame <= BACKWARD != 0 ? n_frames - 1'b1 : '0;
          second <= 1'b0;
        end
        PRE: begin
          ld <= ld + 1'b1;
          if (ENTRY == 0 || ld == LD_W'(KW)) phase <= FIRST;
        end
        FIRST:
        if (k_done) begin
          phase <= LOAD;
          ld <= '0;
          step_first <= 1'b1;
        end
        LOAD: begin
          ld <= ld + 1'b1;
          if (ld == LD_W'(UW - 1)) begin
            phase <= RUN;
            launch <= 1'b1;
          end
        end
        RUN:
        if (!launch && (second ? hh_done : r_done)) begin
          phase <= GATE;
          gc <= '0;
        end
        GATE: begin
          gc <= gc + 1'b1;
          if (gc == GC_W'(NG + 3) && first_of_two) begin
            phase <= LOAD;
            second <= 1'b1;
            ld <= '0;
          end else if (gc == GC_W'(NG + 3) && !step_end) begin
            phase <= WAIT;
          end
        end
        WAIT: ;
        default: phase <= IDLE;
      endcase
      if (step_end) begin
        stat_valid <= 1'b1;
        second <= 1'b0;
        ld <= '0;
        step <= step + 1'b1;
        frame <= BACKWARD != 0 ? frame - 1'b1 : frame + 1'b1;
        if (last_step) begin
          phase <= IDLE;
          done <= 1'b1;
        end else begin
          phase <= LOAD;
          step_first <= 1'b1;
        end
      end
    end
  end

  always_ff @(posedge clk) begin : counters
    if (rst || (phase == IDLE && start)) begin
      step_cycles <= '0;
      k_cycles <= '0;
      r_cycles <= '0;
    end else if (phase != IDLE) begin
      if (step_end) begin
        stat_step <= step_cycles + 1;
        stat_kernel <= k_cycles + 32'(k_busy);
        stat_recurrent <= r_cycles + 32'(u_busy);
        step_cycles <= '0;
        k_cycles <= '0;
        r_cycles <= '0;
      end else begin
        step_cycles <= step_cycles + 1;
        k_cycles <= k_cycles + 32'(k_busy);
        r_cycles <= r_cycles + 32'(u_busy);  // U and U_h never run at once
      end
    end
  end
endmodule
