// The elementwise gate arithmetic of one GRU unit, the twin of
// cell_update<CELL_GRU, ...> in templates/masr/rnn_cell.h and of
// rnn_cell.step: every named quantity is stored once in its type, all
// arithmetic between them is exact.
//
//   xw = accum_t(W x + b)      hu = accum_t(U h + b_r)
//   z  = gate_t(sigma(xw_z + hu_z))      r = gate_t(sigma(xw_r + hu_r))
//   hh = cand_t(act(xw_h + r * hu_h))    h' = state_t(hh + z * (h - hh))
//
// With RESET_AFTER=0 (Keras reset_after=False) the cell runs two passes:
// the first stores rh = state_t(r * h) (out on rh_new) for the U_h engine,
// the second gets U_h rh in the hu_h slot and uses hh = act(xw_h + U_h rh).
//
// sigma is the sigmoid table (REC=0) or hard_sigmoid (REC=1); act is the
// tanh table (ACT=0) or ReLU (ACT=1).  Tables are ROMs read from MEM_DIR.
// Pipeline: operands in cycle 0, h' out (comb.) in cycle 4 with out_valid.
//   0 bias adds, gate sums, table index | 1 gate tables | 2 r * hu_h, index
//   | 3 candidate table | 4 blend
module masr_gru_unit #(
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
    parameter int ACT = 0,  // 0 tanh table, 1 relu
    parameter int REC = 0,  // 0 sigmoid table, 1 hard_sigmoid
    parameter int ACT_N = 10,
    parameter int ACT_R = 3,
    parameter int REC_N = 10,
    parameter int REC_R = 3,
    parameter int RESET_AFTER = 1,
    parameter MEM_DIR = "."
) (
    input  logic               clk,
    input  logic               in_valid,
    input  logic [6*ACC_W-1:0] acc,   // W x rows z, r, h then U h rows z, r, h
    input  logic [6*B_W-1:0]   bias,  // b z, r, h then b_r z, r, h
    input  logic [ST_W-1:0]    h,
    output logic               out_valid,
    output logic [ST_W-1:0]    h_new,
    output logic [ST_W-1:0]    rh_new  // RESET_AFTER=0: state_t(r * h), with out_valid
);
  localparam int AF = ACC_FRAC;
  localparam int GF = G_FRAC;

  // ---------------------------------------------- cycle 0: bias, gate sums
  localparam int F1 = AF > B_FRAC ? AF : B_FRAC;
  localparam int XB_W = (ACC_W + F1 - AF > B_W + 1 + F1 - B_FRAC ? ACC_W + F1 - AF : B_W + 1 + F1 - B_FRAC) + 1;
  logic [ACC_W-1:0] stored[0:5];  // xw z, r, h, hu z, r, h
  generate
    for (genvar k = 0; k < 6; k++) begin : g_bias
      logic signed [XB_W-1:0] a_ext, b_ext, total;
      logic [B_W-1:0] b;
      assign b = bias[k*B_W+:B_W];
      assign a_ext = {{(XB_W - ACC_W) {acc[k*ACC_W+ACC_W-1]}}, acc[k*ACC_W+:ACC_W]};
      assign b_ext = {{(XB_W - B_W) {B_SIGNED != 0 && b[B_W-1]}}, b};
      assign total = (a_ext <<< (F1 - AF)) + (b_ext <<< (F1 - B_FRAC));
      masr_fixed_cast #(
          .IN_W(XB_W),
          .IN_FRAC(F1),
          .OUT_W(ACC_W),
          .OUT_FRAC(AF),
          .OUT_SIGNED(1),
          .ROUNDING(ACC_ROUNDING),
          .OVERFLOW(0)
      ) u_acc (
          .value (total),
          .result(stored[k])
      );
    end
  endgenerate

  logic signed [ACC_W:0] pre_z, pre_r;
  assign pre_z = {stored[0][ACC_W-1], stored[0]} + {stored[3][ACC_W-1], stored[3]};
  assign pre_r = {stored[1][ACC_W-1], stored[1]} + {stored[4][ACC_W-1], stored[4]};

  // z and r travel as table indices (REC=0) or as finished gate values (REC=1).
  localparam int ZW = REC == 0 ? REC_N : G_W;
  logic [ZW-1:0] z_code, r_code;
  generate
    if (REC == 0) begin : g_sigmoid_index
      masr_lut_index #(.IN_W(ACC_W + 1), .X_FRAC(AF), .N_LOG2(REC_N), .R_LOG2(REC_R)) u_z (.x(pre_z), .index(z_code));
      masr_lut_index #(.IN_W(ACC_W + 1), .X_FRAC(AF), .N_LOG2(REC_N), .R_LOG2(REC_R)) u_r (.x(pre_r), .index(r_code));
    end else begin : g_hard_sigmoid
      masr_hard_sigmoid #(
          .IN_W(ACC_W + 1), .X_FRAC(AF), .OUT_W(G_W), .OUT_FRAC(GF), .OUT_SIGNED(G_SIGNED),
          .ROUNDING(G_ROUNDING), .OVERFLOW(G_OVERFLOW)
      ) u_z (.x(pre_z), .y(z_code));
      masr_hard_sigmoid #(
          .IN_W(ACC_W + 1), .X_FRAC(AF), .OUT_W(G_W), .OUT_FRAC(GF), .OUT_SIGNED(G_SIGNED),
          .ROUNDING(G_ROUNDING), .OVERFLOW(G_OVERFLOW)
      ) u_r (.x(pre_r), .y(r_code));
    end
  endgenerate

  logic p1_valid, p2_valid, p3_valid, p4_valid;
  logic [ZW-1:0] p1_z, p1_r;
  logic [ACC_W-1:0] p1_xh, p1_uh, p2_xh, p2_uh;
  logic [ST_W-1:0] p1_h, p2_h, p3_h, p4_h;
  always_ff @(posedge clk) begin : stage1
    p1_valid <= in_valid;
    p1_z <= z_code;
    p1_r <= r_code;
    p1_xh <= stored[2];
    p1_uh <= stored[5];
    p1_h <= h;
  end

  // ----------------------------------------------- cycle 1: gate tables
  logic [G_W-1:0] p2_z, p2_r, p3_z, p4_z;
  generate
    if (REC == 0) begin : g_rec_table
      logic [G_W-1:0] rec_table[0:(1<<REC_N)-1];
      initial $readmemh({MEM_DIR, "/rec_table.hex"}, rec_table);
      always_ff @(posedge clk) begin
        p2_z <= rec_table[p1_z];
        p2_r <= rec_table[p1_r];
      end
    end else begin : g_rec_direct
      always_ff @(posedge clk) begin
        p2_z <= p1_z;
        p2_r <= p1_r;
      end
    end
  endgenerate
  always_ff @(posedge clk) begin : stage2
    p2_valid <= p1_valid;
    p2_xh <= p1_xh;
    p2_uh <= p1_uh;
    p2_h <= p1_h;
  end

  // ---------------------------------------- cycle 2: xw_h + r * hu_h, index
  localparam int F2 = GF > 0 ? AF + GF : AF;
  localparam int T1_W = ACC_W + F2 - AF;
  localparam int T2_W = ACC_W + G_W + 1 + F2 - AF - GF;
  localparam int H_W = (T1_W > T2_W ? T1_W : T2_W) + 1;
  logic signed [H_W-1:0] xh_ext, uh_ext, cand_in;
  /* verilator lint_off UNUSEDSIGNAL */
  logic signed [H_W-1:0] r_ext;  // RESET_AFTER=0 gates U_h's input instead
  /* verilator lint_on UNUSEDSIGNAL */
  assign xh_ext = {{(H_W - ACC_W) {p2_xh[ACC_W-1]}}, p2_xh};
  assign uh_ext = {{(H_W - ACC_W) {p2_uh[ACC_W-1]}}, p2_uh};
  assign r_ext = {{(H_W - G_W) {G_SIGNED != 0 && p2_r[G_W-1]}}, p2_r};
  generate
    if (RESET_AFTER != 0) begin : g_reset_after
      assign cand_in = (xh_ext <<< (F2 - AF)) + ((r_ext * uh_ext) <<< (F2 - AF - GF));
    end else begin : g_reset_before  // uh is U_h (r * h) here
      assign cand_in = (xh_ext <<< (F2 - AF)) + (uh_ext <<< (F2 - AF));
    end
  endgenerate

  // rh = state_t(r * h): the second pass's engine input (RESET_AFTER=0 only).
  logic [ST_W-1:0] rh_code, p3_rh, p4_rh;
  generate
    if (RESET_AFTER == 0) begin : g_rh
      localparam int RH_W = G_W + ST_W + 2;
      logic signed [RH_W-1:0] r_wide, h_wide, product;
      assign r_wide = {{(RH_W - G_W) {G_SIGNED != 0 && p2_r[G_W-1]}}, p2_r};
      assign h_wide = {{(RH_W - ST_W) {ST_SIGNED != 0 && p2_h[ST_W-1]}}, p2_h};
      assign product = r_wide * h_wide;
      masr_fixed_cast #(
          .IN_W(RH_W), .IN_FRAC(GF + ST_FRAC), .OUT_W(ST_W), .OUT_FRAC(ST_FRAC), .OUT_SIGNED(ST_SIGNED),
          .ROUNDING(ST_ROUNDING), .OVERFLOW(ST_OVERFLOW)
      ) u_rh (.value(product), .result(rh_code));
    end else begin : g_no_rh
      assign rh_code = '0;
    end
  endgenerate

  localparam int AW = ACT == 0 ? ACT_N : C_W;
  logic [AW-1:0] a_code, p3_a;
  generate
    if (ACT == 0) begin : g_tanh_index
      masr_lut_index #(.IN_W(H_W), .X_FRAC(F2), .N_LOG2(ACT_N), .R_LOG2(ACT_R)) u_h (.x(cand_in), .index(a_code));
    end else begin : g_relu
      masr_fixed_cast #(
          .IN_W(H_W), .IN_FRAC(F2), .OUT_W(C_W), .OUT_FRAC(C_FRAC), .OUT_SIGNED(C_SIGNED),
          .ROUNDING(C_ROUNDING), .OVERFLOW(C_OVERFLOW)
      ) u_h (.value(cand_in < 0 ? '0 : cand_in), .result(a_code));
    end
  endgenerate
  always_ff @(posedge clk) begin : stage3
    p3_valid <= p2_valid;
    p3_a <= a_code;
    p3_z <= p2_z;
    p3_h <= p2_h;
    p3_rh <= rh_code;
  end

  // -------------------------------------------- cycle 3: candidate table
  logic [C_W-1:0] p4_hh;
  generate
    if (ACT == 0) begin : g_act_table
      logic [C_W-1:0] act_table[0:(1<<ACT_N)-1];
      initial $readmemh({MEM_DIR, "/act_table.hex"}, act_table);
      always_ff @(posedge clk) p4_hh <= act_table[p3_a];
    end else begin : g_act_direct
      always_ff @(posedge clk) p4_hh <= p3_a;
    end
  endgenerate
  always_ff @(posedge clk) begin : stage4
    p4_valid <= p3_valid;
    p4_z <= p3_z;
    p4_h <= p3_h;
    p4_rh <= p3_rh;
  end

  // -------------------------------------- cycle 4: h' = hh + z * (h - hh)
  localparam int FD = ST_FRAC > C_FRAC ? ST_FRAC : C_FRAC;
  localparam int D_W = (ST_W + 1 + FD - ST_FRAC > C_W + 1 + FD - C_FRAC ? ST_W + 1 + FD - ST_FRAC : C_W + 1 + FD - C_FRAC) + 1;
  localparam int FP = GF + FD;
  localparam int FB = C_FRAC > FP ? C_FRAC : FP;
  localparam int S_W = (C_W + 1 + FB - C_FRAC > G_W + 1 + D_W + FB - FP ? C_W + 1 + FB - C_FRAC : G_W + 1 + D_W + FB - FP) + 1;
  logic signed [D_W-1:0] diff;
  logic signed [S_W-1:0] hh_ext, z_ext, diff_ext, blended;
  assign diff = ({{(D_W - ST_W) {ST_SIGNED != 0 && p4_h[ST_W-1]}}, p4_h} <<< (FD - ST_FRAC))
      - ({{(D_W - C_W) {C_SIGNED != 0 && p4_hh[C_W-1]}}, p4_hh} <<< (FD - C_FRAC));
  assign hh_ext = {{(S_W - C_W) {C_SIGNED != 0 && p4_hh[C_W-1]}}, p4_hh};
  assign z_ext = {{(S_W - G_W) {G_SIGNED != 0 && p4_z[G_W-1]}}, p4_z};
  assign diff_ext = {{(S_W - D_W) {diff[D_W-1]}}, diff};
  assign blended = (hh_ext <<< (FB - C_FRAC)) + ((z_ext * diff_ext) <<< (FB - FP));

  masr_fixed_cast #(
      .IN_W(S_W), .IN_FRAC(FB), .OUT_W(ST_W), .OUT_FRAC(ST_FRAC), .OUT_SIGNED(ST_SIGNED),
      .ROUNDING(ST_ROUNDING), .OVERFLOW(ST_OVERFLOW)
  ) u_state (
      .value (blended),
      .result(h_new)
  );
  assign out_valid = p4_valid;
  assign rh_new = p4_rh;
endmodule
