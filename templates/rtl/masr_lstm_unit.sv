// The elementwise gate arithmetic of one LSTM unit, the twin of
// cell_update<CELL_LSTM> in templates/masr/rnn_cell.h and of rnn_cell.step:
//
//   xw = accum_t(W x + b)      pre = accum_t(xw + U h)   (gates i, f, c, o)
//   i, f, o = gate_t(sigma(pre))      g = cand_t(act(pre_c))
//   c' = cell_t(f * c + i * g)        h' = state_t(o * cand_t(act(c')))
//
// Tables and timing as masr_gru_unit: operands in cycle 0, h' and c' out in
// cycle 4 with out_valid.
//   0 bias adds, sums, table indices | 1 gate and candidate tables
//   | 2 c', its index | 3 act(c') table | 4 o * act(c')
module masr_lstm_unit #(
    parameter int ACC_W = 32,
    parameter int ACC_FRAC = 20,
    parameter int ACC_ROUNDING = 0,
    parameter int B_W = 16,
    parameter int B_FRAC = 10,
    parameter int B_SIGNED = 1,
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
    parameter int CL_W = 20,
    parameter int CL_FRAC = 12,
    parameter int CL_SIGNED = 1,
    parameter int CL_ROUNDING = 0,
    parameter int CL_OVERFLOW = 0,
    parameter int ACT = 0,  // 0 tanh table, 1 relu
    parameter int REC = 0,  // 0 sigmoid table, 1 hard_sigmoid
    parameter int ACT_N = 10,
    parameter int ACT_R = 3,
    parameter int REC_N = 10,
    parameter int REC_R = 3,
    parameter MEM_DIR = "."
) (
    input  logic               clk,
    input  logic               in_valid,
    input  logic [8*ACC_W-1:0] acc,   // W x rows i, f, c, o then U h rows i, f, c, o
    input  logic [4*B_W-1:0]   bias,  // b i, f, c, o
    input  logic [CL_W-1:0]    c,
    output logic               out_valid,
    output logic [ST_W-1:0]    h_new,
    output logic [CL_W-1:0]    c_new
);
  localparam int AF = ACC_FRAC;
  localparam int GF = G_FRAC;

  // ------------------------------------------------ cycle 0: pre-activations
  localparam int F1 = AF > B_FRAC ? AF : B_FRAC;
  localparam int XB_W = (ACC_W + F1 - AF > B_W + 1 + F1 - B_FRAC ? ACC_W + F1 - AF : B_W + 1 + F1 - B_FRAC) + 1;
  logic [ACC_W-1:0] pre[0:3];  // i, f, c, o
  generate
    for (genvar k = 0; k < 4; k++) begin : g_pre
      logic signed [XB_W-1:0] a_ext, b_ext, total;
      logic [B_W-1:0] b;
      logic [ACC_W-1:0] xw, hu;
      assign b = bias[k*B_W+:B_W];
      assign a_ext = {{(XB_W - ACC_W) {acc[k*ACC_W+ACC_W-1]}}, acc[k*ACC_W+:ACC_W]};
      assign b_ext = {{(XB_W - B_W) {B_SIGNED != 0 && b[B_W-1]}}, b};
      assign total = (a_ext <<< (F1 - AF)) + (b_ext <<< (F1 - B_FRAC));
      masr_fixed_cast #(
          .IN_W(XB_W), .IN_FRAC(F1), .OUT_W(ACC_W), .OUT_FRAC(AF), .OUT_SIGNED(1),
          .ROUNDING(ACC_ROUNDING), .OVERFLOW(0)
      ) u_xw (.value(total), .result(xw));
      assign hu = acc[(4+k)*ACC_W+:ACC_W];
      assign pre[k] = xw + hu;  // same grid: exact, then wrapped into accum_t
    end
  endgenerate

  localparam int ZW = REC == 0 ? REC_N : G_W;
  localparam int AW = ACT == 0 ? ACT_N : C_W;
  logic [ZW-1:0] gate_code[0:3];  // i, f, o use 0, 1, 3
  logic [AW-1:0] g_code;
  generate
    for (genvar k = 0; k < 4; k++) begin : g_gate
      if (k == 2) begin : g_candidate
        if (ACT == 0) begin : g_tanh
          masr_lut_index #(.IN_W(ACC_W), .X_FRAC(AF), .N_LOG2(ACT_N), .R_LOG2(ACT_R)) u_g (.x(pre[2]), .index(g_code));
        end else begin : g_relu
          masr_fixed_cast #(
              .IN_W(ACC_W), .IN_FRAC(AF), .OUT_W(C_W), .OUT_FRAC(C_FRAC), .OUT_SIGNED(C_SIGNED),
              .ROUNDING(C_ROUNDING), .OVERFLOW(C_OVERFLOW)
          ) u_g (.value(pre[2][ACC_W-1] ? '0 : pre[2]), .result(g_code));
        end
        assign gate_code[2] = '0;
      end else if (REC == 0) begin : g_sigmoid
        masr_lut_index #(.IN_W(ACC_W), .X_FRAC(AF), .N_LOG2(REC_N), .R_LOG2(REC_R)) u_s (.x(pre[k]), .index(gate_code[k]));
      end else begin : g_hard
        masr_hard_sigmoid #(
            .IN_W(ACC_W), .X_FRAC(AF), .OUT_W(G_W), .OUT_FRAC(GF), .OUT_SIGNED(G_SIGNED),
            .ROUNDING(G_ROUNDING), .OVERFLOW(G_OVERFLOW)
        ) u_s (.x(pre[k]), .y(gate_code[k]));
      end
    end
  endgenerate

  logic p1_valid, p2_valid, p3_valid, p4_valid;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [ZW-1:0] p1_code[0:3];  // entry 2 is the candidate's, carried in p1_g
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AW-1:0] p1_g;
  logic [CL_W-1:0] p1_c, p2_c;
  always_ff @(posedge clk) begin : stage1
    p1_valid <= in_valid;
    for (int k = 0; k < 4; k++) p1_code[k] <= gate_code[k];
    p1_g <= g_code;
    p1_c <= c;
  end

  // ------------------------------------------------------ cycle 1: tables
  logic [G_W-1:0] p2_i, p2_f, p2_o, p3_o, p4_o;
  logic [C_W-1:0] p2_g, p4_ac;
  logic [AW-1:0] p3_ac;  // cycle 2's index (or value) of act(c')
  generate
    if (REC == 0) begin : g_rec_table
      logic [G_W-1:0] rec_table[0:(1<<REC_N)-1];
      initial $readmemh({MEM_DIR, "/rec_table.hex"}, rec_table);
      always_ff @(posedge clk) begin
        p2_i <= rec_table[p1_code[0]];
        p2_f <= rec_table[p1_code[1]];
        p2_o <= rec_table[p1_code[3]];
      end
    end else begin : g_rec_direct
      always_ff @(posedge clk) begin
        p2_i <= p1_code[0];
        p2_f <= p1_code[1];
        p2_o <= p1_code[3];
      end
    end
    if (ACT == 0) begin : g_act_table
      logic [C_W-1:0] act_table[0:(1<<ACT_N)-1];
      initial $readmemh({MEM_DIR, "/act_table.hex"}, act_table);
      always_ff @(posedge clk) begin
        p2_g <= act_table[p1_g];
        p4_ac <= act_table[p3_ac];  // cycle 3: act(c')
      end
    end else begin : g_act_direct
      always_ff @(posedge clk) begin
        p2_g <= p1_g;
        p4_ac <= p3_ac;
      end
    end
  endgenerate
  always_ff @(posedge clk) begin : stage2
    p2_valid <= p1_valid;
    p2_c <= p1_c;
  end

  // ------------------------------------------- cycle 2: c' = f * c + i * g
  localparam int FA = GF + CL_FRAC;  // f * c
  localparam int FB = GF + C_FRAC;  // i * g
  localparam int FC = FA > FB ? FA : FB;
  localparam int M_W = (G_W + CL_W + 2 + FC - FA > G_W + C_W + 2 + FC - FB ? G_W + CL_W + 2 + FC - FA : G_W + C_W + 2 + FC - FB) + 1;
  logic signed [M_W-1:0] f_ext, c_ext, i_ext, g_ext, c_sum;
  assign f_ext = {{(M_W - G_W) {G_SIGNED != 0 && p2_f[G_W-1]}}, p2_f};
  assign i_ext = {{(M_W - G_W) {G_SIGNED != 0 && p2_i[G_W-1]}}, p2_i};
  assign c_ext = {{(M_W - CL_W) {CL_SIGNED != 0 && p2_c[CL_W-1]}}, p2_c};
  assign g_ext = {{(M_W - C_W) {C_SIGNED != 0 && p2_g[C_W-1]}}, p2_g};
  assign c_sum = ((f_ext * c_ext) <<< (FC - FA)) + ((i_ext * g_ext) <<< (FC - FB));

  logic [CL_W-1:0] c_next, p3_c, p4_c;
  masr_fixed_cast #(
      .IN_W(M_W), .IN_FRAC(FC), .OUT_W(CL_W), .OUT_FRAC(CL_FRAC), .OUT_SIGNED(CL_SIGNED),
      .ROUNDING(CL_ROUNDING), .OVERFLOW(CL_OVERFLOW)
  ) u_cell (.value(c_sum), .result(c_next));

  localparam int CE_W = CL_W + 1;
  logic signed [CE_W-1:0] c_next_ext;  // cell_t as a signed value
  assign c_next_ext = {CL_SIGNED != 0 && c_next[CL_W-1], c_next};
  logic [AW-1:0] ac_code;
  generate
    if (ACT == 0) begin : g_cell_index
      masr_lut_index #(.IN_W(CE_W), .X_FRAC(CL_FRAC), .N_LOG2(ACT_N), .R_LOG2(ACT_R)) u_ac (.x(c_next_ext), .index(ac_code));
    end else begin : g_cell_relu
      masr_fixed_cast #(
          .IN_W(CE_W), .IN_FRAC(CL_FRAC), .OUT_W(C_W), .OUT_FRAC(C_FRAC), .OUT_SIGNED(C_SIGNED),
          .ROUNDING(C_ROUNDING), .OVERFLOW(C_OVERFLOW)
      ) u_ac (.value(c_next_ext < 0 ? '0 : c_next_ext), .result(ac_code));
    end
  endgenerate
  always_ff @(posedge clk) begin : stage3
    p3_valid <= p2_valid;
    p3_c <= c_next;
    p3_ac <= ac_code;
    p3_o <= p2_o;
  end

  // -------------------------------------------------- cycle 3: act(c') table (above)
  always_ff @(posedge clk) begin : stage4
    p4_valid <= p3_valid;
    p4_c <= p3_c;
    p4_o <= p3_o;
  end

  // ------------------------------------------ cycle 4: h' = o * act(c')
  localparam int O_W = G_W + C_W + 2;
  logic signed [O_W-1:0] o_ext, ac_ext, product;
  assign o_ext = {{(O_W - G_W) {G_SIGNED != 0 && p4_o[G_W-1]}}, p4_o};
  assign ac_ext = {{(O_W - C_W) {C_SIGNED != 0 && p4_ac[C_W-1]}}, p4_ac};
  assign product = o_ext * ac_ext;
  masr_fixed_cast #(
      .IN_W(O_W), .IN_FRAC(GF + C_FRAC), .OUT_W(ST_W), .OUT_FRAC(ST_FRAC), .OUT_SIGNED(ST_SIGNED),
      .ROUNDING(ST_ROUNDING), .OVERFLOW(ST_OVERFLOW)
  ) u_state (
      .value (product),
      .result(h_new)
  );
  assign c_new = p4_c;
  assign out_valid = p4_valid;
endmodule
