"""A check of the HLS C++ that runs without Vitis: is it written the way Vitis schedules predictably?

The *synthesis view* of a file is what Vitis HLS sees: the C++ with ``__SYNTHESIS__``
defined, so every ``#ifndef __SYNTHESIS__`` block (counters, statistics, checks)
is gone.  The open ap_types headers refuse ``__SYNTHESIS__``, so they (and
``hls_stream.h``) are included first and the macro is defined after them.

For every MASR header and every generated project this module

1. compiles the synthesis view with ``g++ -fsyntax-only`` (a project's top
   function instantiates every template it uses, so that check is complete);
2. reads the preprocessed synthesis view of our own files (not ap_types) and
   enforces the rules below, each reported with file and line.

Rules (docs/hls.md explains why each one matters to the scheduler):

- ``loop-bound``: every ``for`` loop compares its index with a constant (a
  number, an upper-case constant, a ``CONFIG_T::member``, a ``constexpr``
  call) or carries ``#pragma HLS LOOP_TRIPCOUNT``; loops inside a pipelined
  region need a constant bound (they are unrolled).
- ``pipeline-exit``: no ``while``/``do`` loop anywhere and no ``break``,
  ``continue``-free early exit or ``goto`` inside a pipelined region.
- ``dynamic-memory``: no ``new``, ``delete``, ``malloc``, ``free``.
- ``std-container``: no ``std::`` containers or strings.
- ``counter``: no signed ``long long`` (counters and cycle arithmetic belong in
  C simulation; ``unsigned long long`` is allowed as a 64-bit pattern).
- ``recursion``: no function that calls itself.
- ``pragma-place``: every ``#pragma HLS`` is inside a function body; loop
  pragmas (PIPELINE in a loop, UNROLL, LOOP_TRIPCOUNT, LOOP_FLATTEN) open the
  body of the loop they govern; INLINE and DATAFLOW open a function or loop body.
- ``pipeline-exit`` also covers a pipelined loop whose condition joins a test
  with ``&&``/``||`` (a bound plus a data-dependent exit): one test per loop.
- ``dataflow-shared``: in a function whose body opens with ``#pragma HLS
  DATAFLOW``, no array, reference, pointer or stream parameter is passed, in
  whole or in part (``w`` and ``w.kernel`` overlap, ``v.mask`` and
  ``v.values`` do not, ``x[i]`` and ``x[j]`` do), to more than one of the
  region's process calls: Vitis's canonical form gives every input one
  reader.  Parameters passed by value (scalars) may go to several processes.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from masr_hls import toolchain
from masr_hls.files import templates_dir

PRELUDE = '#include "ap_fixed.h"\n#include "ap_int.h"\n#include "hls_stream.h"\n#define __SYNTHESIS__\n'

LOOP_PRAGMAS = ("UNROLL", "LOOP_TRIPCOUNT", "LOOP_FLATTEN")
OPENING_PRAGMAS = ("INLINE", "DATAFLOW", "PIPELINE")
CONTAINERS = (
    "vector",
    "map",
    "set",
    "list",
    "deque",
    "queue",
    "stack",
    "string",
    "unordered_map",
    "unordered_set",
    "array",
    "function",
    "shared_ptr",
    "unique_ptr",
)
CONSTEXPR_CALLS = {"mask_words", "encode_cycles", "gate_count", "gate_groups", "softmax_ceil_log2", "elementwise_cycles", "softmax_cycles"}
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "else", "do", "case", "catch"}


@dataclass
class Violation:
    rule: str
    where: str  # file:line
    text: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.text}"


@dataclass
class LintResult:
    checked: list[str] = field(default_factory=list)  # what was checked (headers, projects)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        lines = [f"lint-hls: {len(self.checked)} checked, {len(self.violations)} violations"]
        lines += [f"  {v}" for v in self.violations]
        return "\n".join(lines)


def _gxx(args: list[str], source: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([toolchain.compiler(), "-std=c++14", "-x", "c++", *args, "-"], input=source, text=True, capture_output=True, cwd=cwd)


def _synthesis_view(source: str, includes: list[Path], cwd: Path, ours) -> tuple[str | None, list[tuple[str, int, str]]]:
    """(compiler errors or None, the preprocessed lines of our own files as (file, line, text))."""
    flags = [f"-I{p}" for p in includes]
    check = _gxx(["-fsyntax-only", *flags], source, cwd)
    errors = None if check.returncode == 0 else check.stderr.strip()
    pre = _gxx(["-E", *flags], source, cwd)
    return errors, _preprocessed_lines(pre.stdout, ours)


_MARKER = re.compile(r'^# (\d+) "([^"]+)"')


def _preprocessed_lines(text: str, ours) -> list[tuple[str, int, str]]:
    """The lines of g++ -E output that come from files ``ours`` accepts, as (file, line, text).
    ``ours`` is asked once per file name (resolving paths for every line is what made the check slow)."""
    lines, current, mine, number = [], None, False, 0
    decided: dict[str, bool] = {}
    for raw in text.splitlines():
        m = _MARKER.match(raw)
        if m:
            number, current = int(m.group(1)), m.group(2)
            if current not in decided:
                decided[current] = bool(ours(current))
            mine = decided[current]
            continue
        if mine:
            lines.append((current, number, raw))
        number += 1
    return lines


_TOKEN = re.compile(r'#pragma[^\n]*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|::|->|&&|\|\||[A-Za-z_]\w*|\d[\w.]*|\S')


@dataclass
class _Tok:
    text: str
    where: str


@dataclass
class _Block:
    kind: str  # "func", "loop", "other", "scope" (namespace/class)
    pipelined: bool = False
    started: bool = False  # a non-pragma statement has been seen
    where: str = ""


def _tokens(lines) -> list[_Tok]:
    out = []
    for path, line, text in lines:
        where = f"{Path(path).name}:{line}"
        stripped = text.strip()
        if stripped.startswith("#pragma"):
            out.append(_Tok(stripped, where))
            continue
        if stripped.startswith("#"):
            continue
        for m in _TOKEN.finditer(text):
            out.append(_Tok(m.group(0), where))
    return out


def _matching(toks: list[_Tok], i: int, open_: str = "(", close: str = ")") -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == open_:
            depth += 1
        elif toks[j].text == close:
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _constant_bound(expr: list[str]) -> bool:
    """Is a loop bound made of constants only (numbers, UPPER_CASE, X::member, constexpr calls)?"""
    i = 0
    while i < len(expr):
        t = expr[i]
        if re.match(r"[A-Za-z_]\w*$", t):
            qualified = i + 1 < len(expr) and expr[i + 1] == "::"
            after_scope = i > 0 and expr[i - 1] == "::"
            call = i + 1 < len(expr) and expr[i + 1] in ("(", "<")
            if not (
                qualified
                or after_scope
                or t.isupper()
                or re.match(r"[A-Z][A-Z0-9_]*$", t)
                or (call and t in CONSTEXPR_CALLS)
                or t in ("true", "false", "sizeof")
            ):
                return False
        i += 1
    return True


def _for_parts(header: list[str]) -> list[list[str]]:
    """The tokens of ``for (init; cond; step)``'s header split at its top-level semicolons."""
    parts, depth, current = [], 0, []
    for t in header:
        depth += (t == "(") - (t == ")")
        if t == ";" and depth == 0:
            parts.append(current)
            current = []
        else:
            current.append(t)
    parts.append(current)
    return parts


def _loop_bound(header: list[str]) -> tuple[list[str], str | None]:
    """The bound expression of ``for (init; index < bound [&& ...]; step)`` and the index name."""
    parts = _for_parts(header)
    if len(parts) != 3 or not parts[1]:
        return [], None
    cond = parts[1]
    # the first comparison: index < / <= / > / != bound, up to && or ||
    for k, t in enumerate(cond):
        if t in ("<", "<=", ">", ">=", "!="):
            rest = []
            for u in cond[k + 1 :]:
                if u in ("&&", "||"):
                    break
                rest.append(u)
            return rest, cond[k - 1] if k else None
    return [], None


def lint_lines(lines) -> list[Violation]:
    """The rules over the preprocessed synthesis view of our files."""
    toks = _tokens(lines)
    out: list[Violation] = []
    stack: list[_Block] = [_Block("scope", started=True)]
    pending: tuple[str, dict] | None = None  # a header seen, waiting for its '{'
    loops_without_brace: list[int] = []
    func_names: list[str] = []
    i = 0

    def in_pipeline() -> bool:
        return any(b.pipelined for b in stack)

    def in_function() -> bool:
        return any(b.kind == "func" for b in stack)

    while i < len(toks):
        tok = toks[i]
        t = tok.text
        if t.startswith("#pragma"):
            words = t.split()
            if len(words) >= 3 and words[1].upper() == "HLS":
                name = words[2].upper()
                block = stack[-1]
                if not in_function():
                    out.append(Violation("pragma-place", tok.where, f"'{t}' outside a function body"))
                elif name in LOOP_PRAGMAS and (block.kind != "loop" or block.started):
                    out.append(Violation("pragma-place", tok.where, f"'{t}' does not open the body of the loop it governs"))
                elif name in OPENING_PRAGMAS and (block.kind not in ("loop", "func") or block.started):
                    out.append(Violation("pragma-place", tok.where, f"'{t}' does not open a function or loop body"))
                if name == "PIPELINE" and block.kind in ("loop", "func") and not block.started and "off" not in t.lower():
                    block.pipelined = True
                if name == "LOOP_TRIPCOUNT" and block.kind == "loop":
                    block.where = "tripcount"
            i += 1
            continue
        if t == "for":
            end = _matching(toks, i + 1)
            header = [x.text for x in toks[i + 2 : end]]
            bound, _ = _loop_bound(header)
            constant = bool(bound) and _constant_bound(bound)
            info = {
                "constant": constant,
                "where": tok.where,
                "bound": " ".join(bound) or "?",
                "pipe": in_pipeline(),
                "joined": _joined_condition(header),
            }
            stack[-1].started = True
            if end + 1 < len(toks) and toks[end + 1].text == "{":
                pending = ("loop", info)
                i = end + 1
                continue
            # a loop without braces: nothing can be placed in it; its bound must be constant
            if not constant and not any(b.kind == "func" and b.where == "constexpr" for b in stack):
                out.append(Violation("loop-bound", tok.where, f"loop bound '{info['bound']}' is not a constant and has no LOOP_TRIPCOUNT"))
            loops_without_brace.append(i)
            i = end + 1
            continue
        if t in ("while", "do"):
            out.append(Violation("pipeline-exit", tok.where, f"'{t}' loop: give it a constant bound (a for loop) instead"))
            stack[-1].started = True
            i += 1
            continue
        if t in ("break", "goto") and in_pipeline():
            out.append(Violation("pipeline-exit", tok.where, f"'{t}' inside a pipelined region"))
        if t in ("new", "delete", "malloc", "free", "calloc", "realloc") and (i + 1 < len(toks)):
            nxt = toks[i + 1].text
            if t in ("new", "delete") or nxt == "(":
                out.append(Violation("dynamic-memory", tok.where, f"'{t}'"))
        if t == "std" and i + 2 < len(toks) and toks[i + 1].text == "::" and toks[i + 2].text in CONTAINERS:
            out.append(Violation("std-container", tok.where, f"std::{toks[i + 2].text}"))
        if t == "long" and i + 1 < len(toks) and toks[i + 1].text == "long" and not (i > 0 and toks[i - 1].text == "unsigned"):
            out.append(Violation("counter", tok.where, "signed long long: counters belong in C simulation (#ifndef __SYNTHESIS__)"))
        if t == "{":
            if pending is not None:
                kind, info = pending
                block = _Block(kind, where=info["where"])
                block.info = info  # type: ignore[attr-defined]
                stack.append(block)
                pending = None
            else:
                # a function body follows ')' (optionally const/noexcept/override) at scope level
                prev = toks[i - 1].text if i else ""
                if prev in (")", "const", "noexcept", "override") and not in_function():
                    k = i - 1
                    while k > 0 and toks[k].text not in (";", "}", "{") and not toks[k].text.startswith("#"):
                        k -= 1
                    constexpr = any(x.text == "constexpr" for x in toks[k:i])
                    # a constexpr function is evaluated by the compiler, never built: skip its loops
                    stack.append(_Block("func", where="constexpr" if constexpr else ""))
                else:
                    stack.append(_Block("other"))
                    if len(stack) >= 2:
                        stack[-2].started = True
            i += 1
            continue
        if t == "}":
            block = stack.pop() if len(stack) > 1 else stack[0]
            if block.kind == "loop" and not any(x.kind == "func" and x.where == "constexpr" for x in stack):
                info = block.info  # type: ignore[attr-defined]
                if block.pipelined and info["joined"]:
                    out.append(
                        Violation(
                            "pipeline-exit",
                            info["where"],
                            "pipelined loop whose condition joins a bound and an exit "
                            "with && or ||: one test (a bound with LOOP_TRIPCOUNT, or an exit flag)",
                        )
                    )
                if info["pipe"] and not info["constant"]:
                    out.append(Violation("loop-bound", info["where"], f"loop inside a pipelined region without a constant bound ('{info['bound']}')"))
                elif not info["constant"] and block.where != "tripcount":
                    out.append(Violation("loop-bound", info["where"], f"loop bound '{info['bound']}' is not a constant and has no LOOP_TRIPCOUNT"))
            if block.kind == "func" and func_names:
                func_names.pop()
            i += 1
            continue
        if t in (";",):
            stack[-1].started = True
        elif stack[-1].kind in ("loop", "func", "other") and not t.startswith("#"):
            stack[-1].started = True
        i += 1
    out += _recursion(toks)
    out += _dataflow_shared(toks)
    return out


def _joined_condition(header: list[str]) -> bool:
    """Does the condition of ``for (init; cond; step)`` join tests with && or || at its top level?"""
    parts = _for_parts(header)
    if len(parts) != 3:
        return False
    depth = 0
    for t in parts[1]:
        depth += (t == "(") - (t == ")")
        if depth == 0 and t in ("&&", "||"):
            return True
    return False


def _split_top(toks: list[_Tok], angles: bool) -> list[list[_Tok]]:
    """Split a token list at the commas outside (), [] (and <> when ``angles``)."""
    parts, current, depth = [], [], 0
    for tok in toks:
        t = tok.text
        if t in ("(", "[") or (angles and t == "<"):
            depth += 1
        elif t in (")", "]") or (angles and t == ">"):
            depth -= 1
        if t == "," and depth == 0:
            parts.append(current)
            current = []
        else:
            current.append(tok)
    if current:
        parts.append(current)
    return parts


def _access_path(arg: list[_Tok]) -> tuple[str, ...] | None:
    """``w.kernel`` -> ('w', 'kernel'); ``x[t]`` -> ('x',): the storage an argument names, up to its first index
    (an index may be any element, so it stands for the whole array).  None for anything else (a literal, an
    expression)."""
    texts = [t.text for t in arg if t.text not in ("&", "*")]
    if not texts or not re.match(r"[A-Za-z_]\w*$", texts[0]):
        return None
    path, k = [texts[0]], 1
    while k + 1 < len(texts) and texts[k] in (".", "->") and re.match(r"[A-Za-z_]\w*$", texts[k + 1]):
        path.append(texts[k + 1])
        k += 2
    if k < len(texts) and texts[k] != "[":
        return None  # an expression, not a place in memory
    return tuple(path)


def _process_call(stmt: list[_Tok]) -> list[list[_Tok]] | None:
    """The arguments of a statement ``name[<...>][::name...](args)``, or None if it is not such a call."""
    k = 0
    while k < len(stmt) and re.match(r"[A-Za-z_]\w*$", stmt[k].text):
        k += 1
        if k < len(stmt) and stmt[k].text == "<":
            k = _matching(stmt, k, "<", ">") + 1
        if k < len(stmt) and stmt[k].text == "::":
            k += 1
            continue
        break
    if k == 0 or k >= len(stmt) or stmt[k].text != "(":
        return None
    close = _matching(stmt, k)
    if close != len(stmt) - 1:
        return None
    return _split_top(stmt[k + 1 : close], angles=False)


def _dataflow_shared(toks: list[_Tok]) -> list[Violation]:
    """The ``dataflow-shared`` rule: every DATAFLOW function's processes against its parameters."""
    out = []
    for i, tok in enumerate(toks):
        words = tok.text.split()
        if not (len(words) >= 3 and words[0] == "#pragma" and words[1].upper() == "HLS" and words[2].upper() == "DATAFLOW"):
            continue
        j = i - 1
        while j >= 0 and toks[j].text.startswith("#pragma"):
            j -= 1
        k = j - 1
        while k >= 0 and toks[k].text in ("const", "noexcept", "override"):
            k -= 1
        if j < 0 or toks[j].text != "{" or k < 0 or toks[k].text != ")":
            continue  # not a function body (pragma-place reports a misplaced pragma)
        depth, open_ = 0, k
        while open_ >= 0:
            depth += (toks[open_].text == ")") - (toks[open_].text == "(")
            if depth == 0:
                break
            open_ -= 1
        shared = {}  # parameter name -> is it storage (array, reference, pointer, stream)?
        for param in _split_top(toks[open_ + 1 : k], angles=True):
            texts = [t.text for t in param]
            names = [t for t in texts if re.match(r"[A-Za-z_]\w*$", t)]
            cut = texts.index("[") if "[" in texts else len(texts)
            before = [t for t in texts[:cut] if re.match(r"[A-Za-z_]\w*$", t)]
            if names and before:
                shared[before[-1]] = any(t in ("&", "*", "[") for t in texts)
        end = _matching(toks, j, "{", "}")
        users: dict[tuple[str, ...], list[str]] = {}
        stmt: list[_Tok] = []
        nested = 0
        for t in toks[j + 1 : end]:
            if t.text.startswith("#pragma"):
                continue
            nested += (t.text == "{") - (t.text == "}")
            if t.text == ";" and nested == 0:
                args = _process_call(stmt) if stmt else None
                for arg in args or []:
                    path = _access_path(arg)
                    if path and shared.get(path[0]):
                        users.setdefault(path, []).append(f"{stmt[0].text}@{stmt[0].where}")
                stmt = []
            else:
                stmt.append(t)
        paths, reported = sorted(users), set()
        for a in range(len(paths)):
            for b in range(a, len(paths)):
                p, q = paths[a], paths[b]
                overlap = p[: len(q)] == q[: len(p)]
                calls = set(users[p]) | set(users[q])
                name = ".".join(p if len(p) <= len(q) else q)
                if overlap and len(calls) > 1 and name not in reported:
                    reported.add(name)
                    out.append(
                        Violation(
                            "dataflow-shared",
                            tok.where,
                            f"'{name}' is read or written by more than one process "
                            f"of the DATAFLOW region ({', '.join(c.replace('@', ' at ') for c in sorted(calls))})",
                        )
                    )
    return out


def _recursion(toks: list[_Tok]) -> list[Violation]:
    """Functions whose body calls the function itself (by name; overloaded names cannot be told apart
    without types and are left to the compile check of the project)."""
    out, defined = [], {}
    for k in range(1, len(toks) - 1):
        if toks[k].text == "(" and re.match(r"[A-Za-z_]\w*$", toks[k - 1].text):
            close = _matching(toks, k)
            if close + 1 < len(toks) and toks[close + 1].text in ("{", "const"):
                defined[toks[k - 1].text] = defined.get(toks[k - 1].text, 0) + 1
    depth, i = 0, 0
    while i < len(toks):
        t = toks[i].text
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
        elif t == "(" and i > 0 and re.match(r"[A-Za-z_]\w*$", toks[i - 1].text) and toks[i - 1].text not in KEYWORDS:
            name = toks[i - 1].text
            close = _matching(toks, i)
            j = close + 1
            while j < len(toks) and toks[j].text in ("const", "noexcept", "override"):
                j += 1
            if j < len(toks) and toks[j].text == "{" and not (i > 1 and toks[i - 2].text in (".", "->", "=", "return")):
                end = _matching(toks, j, "{", "}")
                body = toks[j + 1 : end]
                for k in range(len(body) - 1):
                    called = body[k + 1].text in ("(", "<") and (k == 0 or body[k - 1].text not in (".", "->", "::"))
                    if defined.get(name, 0) == 1 and body[k].text == name and called:
                        out.append(Violation("recursion", body[k].where, f"{name} calls itself"))
                        break
                i = j  # continue inside the body (nested definitions are rare; loops are scanned by lint_lines)
                continue
        i += 1
    return out


def _includes(extra: list[Path]) -> list[Path]:
    return [*extra, templates_dir(), toolchain.ap_types_dir()]


def lint_source(source: str, includes: list[Path], cwd: Path, ours, label: str) -> list[Violation]:
    errors, lines = _synthesis_view(source, _includes(includes), cwd, ours)
    found = []
    if errors is not None:
        first = "\n".join(errors.splitlines()[:12])
        found.append(Violation("compile", label, f"the synthesis view does not compile:\n{first}"))
    return found + lint_lines(lines)


def header_paths(root: Path | None = None) -> list[Path]:
    root = root or templates_dir() / "masr"
    return sorted(root.glob("*.h"))


def lint_headers(headers: list[Path] | None = None) -> LintResult:
    """Every MASR header on its own (its synthesis view compiles; the rules hold).

    Each header is still its own translation unit (so a header that leans on another's
    includes fails), but the units are compiled by one g++ process over a precompiled
    prelude (the ap_types headers), and the synthesis views are read from one g++ -E of
    a unit that includes them all: each header's lines appear in it exactly as in its
    own.  Only when that one process fails is each unit compiled alone, to name the
    headers that fail."""
    paths = [Path(p).resolve() for p in (headers or header_paths())]
    result = LintResult(checked=[str(p) for p in paths])
    # headers are grouped by the folder above theirs (their include root), as each is compiled with it first
    groups: dict[Path, list[Path]] = {}
    for path in paths:
        groups.setdefault(path.parent.parent, []).append(path)
    found: dict[Path, list[Violation]] = {p: [] for p in paths}
    for root, group in groups.items():
        for path, violations in _lint_header_group(root, group).items():
            found[path] += violations
    for path in paths:
        result.violations += found[path]
    return result


def _lint_header_group(root: Path, group: list[Path]) -> dict[Path, list[Violation]]:
    includes = _includes([root])
    flags = [f"-I{p}" for p in includes]
    out: dict[Path, list[Violation]] = {p: [] for p in group}
    with tempfile.TemporaryDirectory(prefix="masr-lint-") as tmp:
        tmp = Path(tmp)
        prelude, synthesis = PRELUDE.split("#define __SYNTHESIS__\n")
        (tmp / "masr_lint_prelude.h").write_text(prelude)
        # the prelude precompiled once; if g++ refuses, the units read the header text instead
        subprocess.run(
            [toolchain.compiler(), "-std=c++14", "-x", "c++-header", *flags, "masr_lint_prelude.h", "-o", "masr_lint_prelude.h.gch"],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        units = []
        for k, path in enumerate(group):
            unit = tmp / f"unit_{k}.cpp"
            unit.write_text(f'#include "masr_lint_prelude.h"\n#define __SYNTHESIS__\n{synthesis}#include "{path}"\n')
            units.append(unit)

        def syntax(files: list[Path]) -> subprocess.CompletedProcess:
            return subprocess.run(
                [toolchain.compiler(), "-std=c++14", "-fsyntax-only", f"-I{tmp}", *flags, *[f.name for f in files]],
                capture_output=True,
                text=True,
                cwd=tmp,
            )

        if syntax(units).returncode != 0:
            for path, unit in zip(group, units):
                check = syntax([unit])
                if check.returncode != 0:
                    first = "\n".join(check.stderr.strip().splitlines()[:12])
                    out[path].append(Violation("compile", path.name, f"the synthesis view does not compile:\n{first}"))
        source = PRELUDE + "".join(f'#include "{path}"\n' for path in group)
        pre = _gxx(["-E", *flags], source, root)
    by_file: dict[Path, list] = {p: [] for p in group}
    resolved: dict[str, Path | None] = {}

    def ours(name: str) -> bool:
        p = Path(name)
        resolved[name] = p.resolve() if p.is_absolute() else (root / p).resolve()
        return resolved[name] in by_file

    for line in _preprocessed_lines(pre.stdout, ours):
        by_file[resolved[line[0]]].append(line)
    for path in group:
        out[path] += lint_lines(by_file[path])
    return out


def lint_project(folder: Path) -> LintResult:
    """A generated project: its top function (with everything it instantiates) in the synthesis view."""
    folder = Path(folder).resolve()
    firmware = folder / "firmware"
    tops = [p for p in firmware.glob("*.cpp")]
    if not tops:
        raise FileNotFoundError(f"{folder}: no firmware/*.cpp (is this a masr_hls project?)")
    result = LintResult()
    for top in tops:
        source = PRELUDE + f'#include "{top}"\n'

        def ours(name: str) -> bool:
            p = Path(name)
            if not p.is_absolute():
                p = firmware / p
            try:
                p.resolve().relative_to(firmware)
                return True
            except ValueError:
                return False

        result.checked.append(str(top))
        # the project's own copy of the headers comes first on the include path
        result.violations += lint_source(source, [firmware], folder, ours, top.name)
    return result


def lint_all(projects: list[Path] = ()) -> LintResult:
    result = lint_headers()
    for p in projects:
        r = lint_project(Path(p))
        result.checked += r.checked
        result.violations += r.violations
    return result


def lint_text(header_text: str, name: str = "planted.h") -> LintResult:
    """Lint one header given as text (it may include the MASR headers)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "masr" / name
        path.parent.mkdir()
        path.write_text(header_text)
        return lint_headers([path])
