// Simulation driver for masr_quantize in every rounding mode at three
// shifts.  Reads +values=N raw IN_W-bit inputs from values.hex and writes to
// results.txt, per input, one line of 3 x 7 hex outputs: shift-major, then
// rounding mode in fixed_point.ROUNDING_MODES order.
module masr_quantize_tb #(
    parameter int IN_W = 20,
    parameter int OUT_W = 12,
    parameter int SHIFT_A = 1,
    parameter int SHIFT_B = 5,
    parameter int SHIFT_C = -2
);
  localparam int MODES = 7;
  localparam int SHIFTS = 3;

  logic [IN_W-1:0] value = '0;
  logic [OUT_W-1:0] quantised[0:SHIFTS*MODES-1];

  generate
    for (genvar s = 0; s < SHIFTS; s++) begin : g_shift
      for (genvar m = 0; m < MODES; m++) begin : g_mode
        masr_quantize #(
            .IN_W(IN_W),
            .SHIFT(s == 0 ? SHIFT_A : s == 1 ? SHIFT_B : SHIFT_C),
            .OUT_W(OUT_W),
            .ROUNDING(m)
        ) u_quantize (
            .value(value),
            .quantised(quantised[s*MODES+m])
        );
      end
    end
  endgenerate

  initial begin : drive
    int n_values, fd_in, fd_out, got;
    logic [IN_W-1:0] scanned;  // $fscanf into `value` itself would not wake the logic it drives
    if (!$value$plusargs("values=%d", n_values)) n_values = 0;
    fd_in = $fopen("values.hex", "r");
    fd_out = $fopen("results.txt", "w");
    if (fd_in == 0 || fd_out == 0) $fatal(1, "cannot open values.hex or results.txt");
    for (int i = 0; i < n_values; i++) begin
      got = $fscanf(fd_in, "%h\n", scanned);
      if (got != 1) $fatal(1, "values.hex ended early (value %0d)", i);
      value = scanned;
      #1;
      for (int k = 0; k < SHIFTS * MODES; k++) $fwrite(fd_out, "%h ", quantised[k]);
      $fwrite(fd_out, "\n");
    end
    $fclose(fd_in);
    $fclose(fd_out);
    $finish;
  end
endmodule
