// Simulation driver for masr_rnn_layer (Verilator --binary).  Reads
// +samples=N +frames=T +last_only=0/1 and x.hex (N x T x N_IN raw inputs,
// one a line); for each sample streams the frames in, pulses start and
// records until done.  results.txt gets per sample:
//   <layer cycles> <input load cycles> <forward sweep cycles> <backward sweep cycles>
//   per direction, per step: <kernel engine cycles> <recurrent engine cycles> <step cycles>
//   per output frame: the N_OUT raw outputs in hex
// Layer cycles count from the cycle after start is sampled to the cycle
// in which done is high, inclusive; sweep and engine cycles count the cycles
// in which each is busy.
module masr_rnn_layer_tb #(

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
    parameter int BANK_LANES = 1,
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
    parameter int ENTRY = 0,  // the model's first layer: frames encoded on entry
    parameter int SPLIT = 0,  // concat into a split store: states leave as the cells write them
    parameter int TIMEOUT = 10000000
);
  localparam int T_W = $clog2(MAX_T + 1);
  localparam int N_OUT = DIRS == 2 && MERGE == 0 ? 2 * UNITS : UNITS;
  localparam int GU = LANES < UNITS ? LANES : UNITS;
  localparam int OUT_K = SPLIT != 0 ? 2 * GU : GU;  // a group of one half (concat) or of both merged, or one per cell (SPLIT)
  localparam int OI_W = $clog2(N_OUT + 1);

  logic clk = 1'b0;
  logic rst = 1'b1;
  logic in_valid = 1'b0;
  logic [IN_W-1:0] in_data = '0;
  logic [T_W-1:0] n_frames = '0;
  logic last_only = 1'b0;
  logic start = 1'b0;
  logic in_ready, done, out_valid;
  /* verilator lint_off UNUSEDSIGNAL */
  logic busy;  // the driver waits for done
  /* verilator lint_on UNUSEDSIGNAL */
  logic [OUT_K*T_W-1:0] out_frame;
  logic [OUT_K-1:0] out_keep;
  logic [OUT_K*OI_W-1:0] out_index;
  logic [OUT_K*O_W-1:0] out_data;
  logic [1:0] dir_busy, stat_valid;
  logic [63:0] stat_kernel, stat_recurrent, stat_step;

  initial forever #5 clk = ~clk;

  masr_rnn_layer #(
      .N_IN(N_IN),
      .UNITS(UNITS),
      .LANES(LANES),
      .MACS(MACS),
      .SCAN_WORDS(SCAN_WORDS),
      .FIFO_DEPTH(FIFO_DEPTH),
      .K_ROWS(K_ROWS),
      .K_NNZ(K_NNZ),
      .R_ROWS(R_ROWS),
      .R_NNZ(R_NNZ),
      .BANK_LANES(BANK_LANES),
      .IN_W(IN_W),
      .IN_FRAC(IN_FRAC),
      .IN_SIGNED(IN_SIGNED),
      .W_W(W_W),
      .W_FRAC(W_FRAC),
      .W_SIGNED(W_SIGNED),
      .RW_W(RW_W),
      .RW_FRAC(RW_FRAC),
      .RW_SIGNED(RW_SIGNED),
      .B_W(B_W),
      .B_FRAC(B_FRAC),
      .B_SIGNED(B_SIGNED),
      .ACC_W(ACC_W),
      .ACC_FRAC(ACC_FRAC),
      .ACC_ROUNDING(ACC_ROUNDING),
      .ST_W(ST_W),
      .ST_FRAC(ST_FRAC),
      .ST_SIGNED(ST_SIGNED),
      .ST_ROUNDING(ST_ROUNDING),
      .ST_OVERFLOW(ST_OVERFLOW),
      .G_W(G_W),
      .G_FRAC(G_FRAC),
      .G_SIGNED(G_SIGNED),
      .G_ROUNDING(G_ROUNDING),
      .G_OVERFLOW(G_OVERFLOW),
      .C_W(C_W),
      .C_FRAC(C_FRAC),
      .C_SIGNED(C_SIGNED),
      .C_ROUNDING(C_ROUNDING),
      .C_OVERFLOW(C_OVERFLOW),
      .ACT(ACT),
      .REC(REC),
      .ACT_N(ACT_N),
      .ACT_R(ACT_R),
      .REC_N(REC_N),
      .REC_R(REC_R),
      .KIND(KIND),
      .CL_W(CL_W),
      .CL_FRAC(CL_FRAC),
      .CL_SIGNED(CL_SIGNED),
      .CL_ROUNDING(CL_ROUNDING),
      .CL_OVERFLOW(CL_OVERFLOW),
      .RESET_AFTER(RESET_AFTER),
      .H_ROWS(H_ROWS),
      .H_NNZ(H_NNZ),
      .MAX_T(MAX_T),
      .DIRS(DIRS),
      .BACKWARD(BACKWARD),
      .MERGE(MERGE),
      .O_W(O_W),
      .O_FRAC(O_FRAC),
      .O_SIGNED(O_SIGNED),
      .O_ROUNDING(O_ROUNDING),
      .O_OVERFLOW(O_OVERFLOW),
      .ENTRY(ENTRY),
      .SPLIT(SPLIT),
      .MEM_DIR(".")
  ) dut (.*);

  logic [O_W-1:0] y[0:MAX_T-1][0:N_OUT-1];
  int steps[0:1][0:MAX_T-1][0:2];
  int n_steps[0:1];
  int dir_cycles[0:1];
  int n_written;

  task automatic record();
    if (out_valid) begin
      for (int k = 0; k < OUT_K; k++) begin
        if (out_keep[k]) begin
          y[int'(out_frame[k*T_W+:T_W])][int'(out_index[k*OI_W+:OI_W])] = out_data[k*O_W+:O_W];
          n_written++;
        end
      end
    end
    for (int d = 0; d < 2; d++) begin
      if (dir_busy[d]) dir_cycles[d]++;
      if (stat_valid[d]) begin
        steps[d][n_steps[d]][0] = int'(stat_kernel[d*32+:32]);
        steps[d][n_steps[d]][1] = int'(stat_recurrent[d*32+:32]);
        steps[d][n_steps[d]][2] = int'(stat_step[d*32+:32]);
        n_steps[d]++;
      end
    end
  endtask

  initial begin : drive
    int n_samples, frames, last, fd_in, fd_out, cycles, load_cycles, got, out_frames;
    logic [IN_W-1:0] element;
    if (!$value$plusargs("samples=%d", n_samples)) n_samples = 0;
    if (!$value$plusargs("frames=%d", frames)) frames = MAX_T;
    if (!$value$plusargs("last_only=%d", last)) last = 0;
    if (frames < 1 || frames > MAX_T) $fatal(1, "frames=%0d outside 1..%0d", frames, MAX_T);
    out_frames = last != 0 && DIRS == 2 ? 1 : frames;
    fd_in = $fopen("x.hex", "r");
    fd_out = $fopen("results.txt", "w");
    if (fd_in == 0 || fd_out == 0) $fatal(1, "cannot open x.hex or results.txt");
    repeat (2) @(negedge clk);
    rst = 1'b0;
    for (int s = 0; s < n_samples; s++) begin
      @(negedge clk);
      load_cycles = 0;
      for (int i = 0; i < frames * N_IN; i++) begin
        got = $fscanf(fd_in, "%h\n", element);
        if (got != 1) $fatal(1, "x.hex ended early (sample %0d element %0d)", s, i);
        in_valid = 1'b1;
        in_data  = element;
        while (!in_ready) @(negedge clk);
        @(negedge clk);
        load_cycles++;
      end
      in_valid = 1'b0;
      n_frames = T_W'(frames);
      last_only = last != 0;
      start = 1'b1;
      n_steps = '{0, 0};
      dir_cycles = '{0, 0};
      n_written = 0;
      @(negedge clk);
      start  = 1'b0;
      cycles = 1;
      while (!done) begin
        record();
        @(negedge clk);
        cycles++;
        if (cycles > TIMEOUT) $fatal(1, "no done after %0d cycles (sample %0d)", cycles, s);
      end
      record();
      if (n_written != out_frames * N_OUT) $fatal(1, "sample %0d: %0d outputs written, expected %0d", s, n_written, out_frames * N_OUT);
      $fwrite(fd_out, "%0d %0d %0d %0d\n", cycles, load_cycles, dir_cycles[0], dir_cycles[1]);
      for (int d = 0; d < DIRS; d++) begin
        if (n_steps[d] != frames) $fatal(1, "sample %0d direction %0d: %0d steps, expected %0d", s, d, n_steps[d], frames);
        for (int t = 0; t < frames; t++) $fwrite(fd_out, "%0d %0d %0d\n", steps[d][t][0], steps[d][t][1], steps[d][t][2]);
      end
      for (int t = 0; t < out_frames; t++) begin
        for (int j = 0; j < N_OUT; j++) $fwrite(fd_out, "%h ", y[t][j]);
        $fwrite(fd_out, "\n");
      end
    end
    $fclose(fd_in);
    $fclose(fd_out);
    $finish;
  end
endmodule
