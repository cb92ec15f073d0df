// Number of set bits.  A packed value's address is the popcount of the mask
// bits below it, so this is the address generator of the front end.
// $countones keeps the simulation small (one instruction per word); yosys
// builds the same adder tree it builds from an explicit sum.
module masr_popcount #(
    parameter int WIDTH = 32,
    parameter int COUNT_W = $clog2(WIDTH + 1)
) (
    input  logic [WIDTH-1:0]   bits,
    output logic [COUNT_W-1:0] count
);
  assign count = COUNT_W'($countones(bits));
endmodule
