// Simulation driver for masr_mxv (Verilator --binary).  Reads +vectors=T
// input vectors from vectors.hex (N_IN raw values each, one per line), and
// for each one streams it into the encoder, pulses start, counts cycles to
// done, and writes to results.txt a line "<engine cycles> <encode cycles>"
// followed by the N_OUT raw results in hex.
//
// Engine cycles: start is sampled at clock edge 0; the count is the index of
// the first cycle in which done is high (busiest lane + pipeline depth).
module masr_mxv_tb #(
    parameter int N_IN = 8,
    parameter int N_OUT = 8,
    parameter int LANES = 1,
    parameter int MACS = 1,
    parameter int SCAN_WORDS = 4,
    parameter int LANE_ROWS = 8,
    parameter int LANE_NNZ = 64,
    parameter int BANK_LANES = 1,
    parameter int W_W = 8,
    parameter int W_FRAC = 4,
    parameter int W_SIGNED = 1,
    parameter int A_W = 8,
    parameter int A_FRAC = 4,
    parameter int A_SIGNED = 1,
    parameter int ACC_W = 16,
    parameter int ACC_FRAC = 8,
    parameter int ROUNDING = 0,
    parameter int FIFO_DEPTH = 4,
    parameter int TIMEOUT = 1000000
);
  localparam int ROW_W = N_OUT > 1 ? $clog2(N_OUT) : 1;

  logic clk = 1'b0;
  logic rst = 1'b1;
  logic in_valid = 1'b0;
  logic [A_W-1:0] in_data = '0;
  logic start = 1'b0;
  logic [ROW_W-1:0] y_row = '0;
  logic in_ready, done, busy;
  logic [ACC_W-1:0] y_data;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [N_OUT*ACC_W-1:0] y_all;  // the GRU cell's port; this driver reads y_data
  /* verilator lint_on UNUSEDSIGNAL */

  initial forever #5 clk = ~clk;

  masr_mxv #(
      .N_IN(N_IN),
      .N_OUT(N_OUT),
      .LANES(LANES),
      .MACS(MACS),
      .SCAN_WORDS(SCAN_WORDS),
      .LANE_ROWS(LANE_ROWS),
      .LANE_NNZ(LANE_NNZ),
      .BANK_LANES(BANK_LANES),
      .W_W(W_W),
      .W_FRAC(W_FRAC),
      .W_SIGNED(W_SIGNED),
      .A_W(A_W),
      .A_FRAC(A_FRAC),
      .A_SIGNED(A_SIGNED),
      .ACC_W(ACC_W),
      .ACC_FRAC(ACC_FRAC),
      .ROUNDING(ROUNDING),
      .FIFO_DEPTH(FIFO_DEPTH),
      .MEM_DIR(".")
  ) dut (
      .clk(clk),
      .rst(rst),
      .in_valid(in_valid),
      .in_ready(in_ready),
      .in_data(in_data),
      .vec_load(1'b0),
      .vec_data('0),
      .start(start),
      .done(done),
      .busy(busy),
      .y_row(y_row),
      .y_data(y_data),
      .y_all(y_all)
  );

  // Inputs change and outputs are sampled on the falling edge, away from the
  // rising edge the design uses.
  initial begin : drive
    int n_vectors, fd_in, fd_out, cycles, encode_cycles, got;
    logic [A_W-1:0] element;
    if (!$value$plusargs("vectors=%d", n_vectors)) n_vectors = 0;
    fd_in = $fopen("vectors.hex", "r");
    fd_out = $fopen("results.txt", "w");
    if (fd_in == 0 || fd_out == 0) $fatal(1, "cannot open vectors.hex or results.txt");
    repeat (2) @(negedge clk);
    rst = 1'b0;
    for (int t = 0; t < n_vectors; t++) begin
      @(negedge clk);  // re-align after reading the previous results
      encode_cycles = 0;
      for (int i = 0; i < N_IN; i++) begin
        got = $fscanf(fd_in, "%h\n", element);
        if (got != 1) $fatal(1, "vectors.hex ended early (vector %0d element %0d)", t, i);
        in_valid = 1'b1;
        in_data = element;
        // in_ready only changes on rising edges, so its value now decides the next one
        while (!in_ready) begin
          @(negedge clk);
          encode_cycles++;
        end
        @(negedge clk);
        encode_cycles++;
      end
      in_valid = 1'b0;
      start = 1'b1;
      @(negedge clk);
      start = 1'b0;
      cycles = 1;
      while (!done) begin
        @(negedge clk);
        cycles++;
        if (!busy) $fatal(1, "engine idle without done (vector %0d)", t);
        if (cycles > TIMEOUT) $fatal(1, "no done after %0d cycles (vector %0d)", cycles, t);
      end
      $fwrite(fd_out, "%0d %0d\n", cycles, encode_cycles);
      for (int r = 0; r < N_OUT; r++) begin
        y_row = ROW_W'(r);
        #1;
        $fwrite(fd_out, "%h\n", y_data);
      end
    end
    $fclose(fd_in);
    $fclose(fd_out);
    $finish;
  end
endmodule
