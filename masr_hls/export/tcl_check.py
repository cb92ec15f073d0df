"""Dry-run the exported Vitis HLS and Vivado tcl scripts under plain ``tclsh``.

Every vendor command is replaced by a stub that accepts exactly the options
the real command documents for the way we use it, checks that files it is
given exist, and records the call.  A misspelt option, a missing file or a tcl
error fails the dry run, which is as far as a script can be checked without
the vendor tools.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# command -> {option: takes a value}; positional arguments are allowed unless noted.
VITIS_COMMANDS = {
    "open_project": {"-reset": False},
    "set_top": {},
    "add_files": {"-tb": False, "-cflags": True, "-csimflags": True, "-blackbox": True},
    "open_solution": {"-reset": False, "-flow_target": True},
    "set_part": {},
    "create_clock": {"-period": True, "-name": True},
    "config_interface": {"-m_axi_latency": True, "-m_axi_alignment_byte_size": True, "-default_slave_interface": True},
    "config_export": {
        "-format": True,
        "-vendor": True,
        "-library": True,
        "-version": True,
        "-description": True,
        "-rtl": True,
        "-display_name": True,
        "-ipname": True,
    },
    "csim_design": {"-clean": False, "-O": False, "-argv": True, "-ldflags": True},
    "csynth_design": {},
    "cosim_design": {"-trace_level": True, "-rtl": True, "-tool": True, "-O": False, "-ldflags": True},
    "export_design": {"-format": True, "-rtl": True, "-flow": True, "-vendor": True, "-library": True, "-version": True},
}
VIVADO_COMMANDS = {
    "read_verilog": {},
    "synth_design": {"-top": True, "-part": True, "-mode": True, "-flatten_hierarchy": True},
    "create_clock": {"-period": True, "-name": True},
    "get_ports": {},
    "report_utilization": {"-file": True},
    "report_timing_summary": {"-file": True},
}
FILE_ARGUMENTS = {"add_files", "read_verilog"}  # their positional arguments must name existing files

_PRELUDE = r"""
rename exit masr_real_exit
proc exit {args} { puts "CALL exit $args"; flush stdout; masr_real_exit {*}$args }
proc masr_check {cmd spec files argv} {
    set positional {}
    for {set i 0} {$i < [llength $argv]} {incr i} {
        set a [lindex $argv $i]
        if {[string index $a 0] eq "-" && ![string is double $a]} {
            if {![dict exists $spec $a]} { error "$cmd: unknown option '$a'" }
            if {[dict get $spec $a]} {
                incr i
                if {$i >= [llength $argv]} { error "$cmd: option '$a' needs a value" }
            }
        } else { lappend positional $a }
    }
    if {$files} {
        foreach f $positional {
            foreach item $f { if {![file exists $item]} { error "$cmd: file '$item' does not exist" } }
        }
    }
    puts "CALL $cmd $argv"
    return $positional
}
# Before synthesis there is no RTL: a glob for it yields one placeholder file, created empty.
rename glob masr_real_glob
proc glob {args} {
    set found [masr_real_glob -nocomplain {*}[lrange $args [expr {[lindex $args 0] eq "-nocomplain"}] end]]
    if {[llength $found] == 0 && [string match "*syn/verilog/*.v" [lindex $args end]]} {
        set stub [string map {* placeholder} [lindex $args end]]
        file mkdir [file dirname $stub]
        close [open $stub w]
        return [list $stub]
    }
    return $found
}
"""


@dataclass
class DryRun:
    script: str
    ok: bool
    calls: list[str]
    output: str


def stub_prelude(commands: dict) -> str:
    procs = []
    for cmd, spec in commands.items():
        pairs = " ".join(f"{opt} {int(takes)}" for opt, takes in spec.items())
        procs.append(f"proc {cmd} {{args}} {{ masr_check {cmd} [dict create {pairs}] {int(cmd in FILE_ARGUMENTS)} $args }}")
    return _PRELUDE + "\n".join(procs) + "\n"


def dry_run(project_dir, script: str, commands: dict, tclargs: list[str] | None = None) -> DryRun:
    """Source ``script`` from ``project_dir`` with stubs for ``commands``; argv as after ``-tclargs``."""
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        raise FileNotFoundError("tclsh not found; install it with apt-get install tcl")
    project_dir = Path(project_dir)
    if not (project_dir / script).is_file():
        return DryRun(script, False, [], f"{script} not found in {project_dir}")
    scratch = project_dir / ".tcl_dry_run"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(project_dir, scratch, ignore=shutil.ignore_patterns(".tcl_dry_run"))
    try:
        driver = scratch / "masr_dry_run.tcl"
        argv = " ".join("{" + a + "}" for a in (tclargs or []))
        driver.write_text(stub_prelude(commands) + f"set argv [list {argv}]\nset argc [llength $argv]\nsource {script}\n")
        proc = subprocess.run([tclsh, driver.name], capture_output=True, text=True, cwd=scratch, timeout=60)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    calls = [line[5:].strip() for line in proc.stdout.splitlines() if line.startswith("CALL ")]
    finished = "exit" in calls  # the script reached its own plain 'exit'
    return DryRun(script, proc.returncode == 0 and finished, calls, proc.stdout + proc.stderr)


def check_export(project_dir) -> list[DryRun]:
    """Both scripts of an exported project, build_prj.tcl with every step switched on."""
    return [
        dry_run(project_dir, "build_prj.tcl", VITIS_COMMANDS, ["csim=1", "synth=1", "cosim=1", "export=1"]),
        dry_run(project_dir, "vivado_synth.tcl", VIVADO_COMMANDS),
    ]
