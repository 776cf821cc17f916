#!/usr/bin/env python3
"""Makes the seed corpora of tests/fuzz's fuzzers (tools/fuzz.sh runs it).

    make_seeds.py OUTDIR [--no-gcore]

OUTDIR/core/   uncompressed cores, for core_fuzzer
OUTDIR/input/  some of them, zstd/lz4/xz-compressed ones and ELF files (a
               synthetic shared object, a small one of the host's), for
               core_input_fuzzer

Nothing binary is committed: the seeds are made here, each run.
  * synthetic cores written from scratch, kernel-like (a crash: NT_SIGINFO
    with SIGSEGV) and gcore-like; one with relative NT_FILE paths and no
    build ids, so the fuzzer's hermetic CoreTarget memory path runs;
  * real cores: gcore of a `sleep` and of a short python3 process with a
    second thread, shrunk to a small valid core: the ELF header, program
    headers and the notes pyhang reads (NT_PRSTATUS, NT_PRPSINFO,
    NT_SIGINFO, NT_AUXV, NT_FILE, one NT_FPREGSET pyhang skips), every
    PT_LOAD header, and of the memory only a few pieces: each mapped ELF
    image's headers and notes (its build id), the AT_EXECFN string, the top
    of each thread's stack; the rest of each segment stays described but
    without its bytes (p_filesz 0 pieces);
  * broken variants: empty, ELF header only, cut in the program headers,
    in the notes and in the memory, a non-core ELF;
  * compressed: zstd, lz4 and xz (the CLIs; skipped where missing) of some
    of the above, and the same cut short.
"""

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

PT_LOAD, PT_NOTE = 1, 4
ET_CORE, EM_X86_64 = 4, 62
NT_PRSTATUS, NT_FPREGSET, NT_PRPSINFO, NT_AUXV = 1, 2, 3, 6
NT_SIGINFO, NT_FILE = 0x53494749, 0x46494C45
NT_GNU_BUILD_ID = 3
AT_NULL, AT_PHDR, AT_PAGESZ, AT_BASE, AT_ENTRY = 0, 3, 6, 7, 9
AT_RANDOM, AT_EXECFN, AT_SYSINFO_EHDR = 25, 31, 33
KEPT_NOTES = {NT_PRSTATUS, NT_FPREGSET, NT_PRPSINFO, NT_AUXV, NT_SIGINFO, NT_FILE}
PAGE = 4096
MAX_SEED = 60 << 10  # tools/fuzz.sh runs with -max_len=65536

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")


def pad4(data):
    return data + b"\0" * (-len(data) % 4)


# --- writing cores -----------------------------------------------------------

def note(name, note_type, desc):
    name = name + b"\0"
    return struct.pack("<III", len(name), len(desc), note_type) + pad4(name) + pad4(desc)


def write_core(notes, loads, e_type=ET_CORE):
    """notes: bytes; loads: [(vaddr, memsz, flags, data)] (len(data) <= memsz)."""
    phnum = 1 + len(loads)
    at = EHDR.size + phnum * PHDR.size
    phdrs = [PHDR.pack(PT_NOTE, 4, at, 0, 0, len(notes), 0, 1)]
    at += len(notes)
    body = [notes]
    for vaddr, memsz, flags, data in loads:
        phdrs.append(PHDR.pack(PT_LOAD, flags, at, vaddr, 0, len(data), memsz, 1))
        body.append(data)
        at += len(data)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = EHDR.pack(ident, e_type, EM_X86_64, 1, 0, EHDR.size, 0, 0, EHDR.size,
                     PHDR.size, phnum, 64, 0, 0)
    return ehdr + b"".join(phdrs) + b"".join(body)


def prstatus(tid, signal, rip, rsp, fs_base, orig_rax):
    desc = bytearray(336)
    struct.pack_into("<h", desc, 12, signal)
    struct.pack_into("<i", desc, 32, tid)
    regs = [0] * 27
    regs[15], regs[16], regs[19], regs[21] = orig_rax, rip, rsp, fs_base
    regs[14], regs[13], regs[12] = 0x1000, 16, 0  # rdi rsi rdx: futex-ish args
    struct.pack_into("<27Q", desc, 112, *regs)
    return bytes(desc)


def prpsinfo(pid, comm, args, state=b"S"):
    desc = bytearray(136)
    desc[1:2] = state
    struct.pack_into("<IIii", desc, 16, 0, 0, pid, 1)  # uid gid pid ppid
    desc[40:40 + len(comm)] = comm[:16]
    desc[56:56 + len(args)] = args[:80]
    return bytes(desc)


def siginfo(signo, code, address):
    desc = bytearray(128)
    struct.pack_into("<iiiiQ", desc, 0, signo, 0, code, 0, address)
    return bytes(desc)


def auxv(pairs):
    return b"".join(struct.pack("<QQ", k, v) for k, v in pairs + [(AT_NULL, 0)])


def file_note(mappings):
    """mappings: [(start, end, page_offset, path bytes)]."""
    head = struct.pack("<QQ", len(mappings), PAGE)
    table = b"".join(struct.pack("<QQQ", s, e, o) for s, e, o, _ in mappings)
    return head + table + b"".join(p + b"\0" for *_, p in mappings)


def elf_image(build_id, phnum_extra=0):
    """The first bytes of a mapped ELF file: header, PT_LOAD, PT_NOTE, build id."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    phnum = 2 + phnum_extra
    notes_at = EHDR.size + phnum * PHDR.size
    notes = note(b"GNU", 5, b"\0" * 16) + note(b"GNU", NT_GNU_BUILD_ID, build_id)
    ehdr = EHDR.pack(ident, 3, EM_X86_64, 1, 0x1040, EHDR.size, 0, 0, EHDR.size, PHDR.size,
                     phnum, 64, 0, 0)
    phdrs = PHDR.pack(PT_LOAD, 5, 0, 0, 0, 0x2000, 0x2000, 0x1000)
    phdrs += PHDR.pack(PT_NOTE, 4, notes_at, notes_at, notes_at, len(notes), len(notes), 4)
    phdrs += b"".join(PHDR.pack(6 + i, 4, 0, 0, 0, 0, 0, 8) for i in range(phnum_extra))
    return ehdr + phdrs + notes


def initial_stack(base, argv, envp, execfn, extra_auxv):
    """What the kernel puts at the top of a new process's stack, at `base`:
    argc, argv[], NULL, envp[], NULL, the auxiliary vector, then the strings.
    Returns (bytes, auxv bytes as NT_AUXV holds them)."""
    strings_at = base + 0x200
    strings, pointers = b"", {}
    for text in argv + envp + [execfn]:
        pointers.setdefault(text, strings_at + len(strings))
        strings += text + b"\0"
    random_at = strings_at + len(strings)
    strings += bytes(range(16))
    pairs = extra_auxv + [(AT_RANDOM, random_at), (AT_EXECFN, pointers[execfn])]
    vector = auxv(pairs)
    words = [len(argv)] + [pointers[a] for a in argv] + [0] + [pointers[e] for e in envp] + [0]
    head = struct.pack(f"<{len(words)}Q", *words) + vector
    assert len(head) <= 0x200
    return head + b"\0" * (0x200 - len(head)) + strings, vector


def synthetic_core(crash, relative=False, threads=2):
    exe, lib = (b"bin/app", b"lib/libfake.so") if relative else (b"/usr/bin/app", b"/usr/lib/libfake.so.1")
    exe_at, lib_at, stack_at, vdso_at = 0x555555554000, 0x7f0000000000, 0x7ffffffde000, 0x7ffff7fc1000
    stack_size = 0x21000
    top = stack_at + stack_size - 0x400  # the initial stack's 1 KiB, held by the core
    stack, vector = initial_stack(top, [exe, b"--serve", b"--port=8080"], [b"HOME=/", b"LANG=C"], exe,
                                  [(AT_PHDR, exe_at + 64), (AT_PAGESZ, PAGE), (AT_BASE, 0),
                                   (AT_ENTRY, exe_at + 0x1040), (AT_SYSINFO_EHDR, vdso_at)])
    stack = stack + b"\0" * (0x400 - len(stack))
    image = (lambda bid: b"" if relative else elf_image(bid))
    notes = note(b"CORE", NT_PRPSINFO, prpsinfo(4242, b"app", b"app --serve\0x"))
    for i in range(threads):
        signal = (11 if i == 0 else 0) if crash else 19  # gcore: SIGSTOP
        notes += note(b"CORE", NT_PRSTATUS,
                      prstatus(4242 + i, signal, exe_at + 0x1100 + i, top - 64 * i,
                               0x7f0000100000 + 0x1000 * i, 0xFFFFFFFFFFFFFFFF if i == 0 else 202))
    notes += note(b"CORE", NT_FPREGSET, b"\0" * 512)
    if crash:
        notes += note(b"CORE", NT_SIGINFO, siginfo(11, 1, 0xdead))
    notes += note(b"CORE", NT_AUXV, vector)
    notes += note(b"LINUX", 0x202, b"\0" * 64)  # NT_X86_XSTATE-like: another owner's note
    notes += note(b"CORE", NT_FILE, file_note([
        (exe_at, exe_at + 0x2000, 0, exe), (exe_at + 0x2000, exe_at + 0x3000, 2, exe),
        (lib_at, lib_at + 0x3000, 0, lib)]))
    loads = [
        (exe_at, 0x2000, 5, image(bytes(range(20)))),
        (exe_at + 0x2000, 0x1000, 6, b"\x11" * 256),
        (lib_at, 0x3000, 5, image(bytes(range(100, 120)))),
        (vdso_at, 0x2000, 5, elf_image(b"\xaa" * 20)),
        (stack_at, stack_size - 0x400, 6, b""),
        (top, 0x400, 6, stack),
    ]
    return write_core(notes, loads)


SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")


def elf_with_sections():
    """A small shared object as ElfFile and FileBuildId read one: PT_LOAD,
    PT_NOTE, PT_DYNAMIC; .dynsym, .symtab, .dynamic (DT_NEEDED), a build id."""
    def strtab(names):
        table, at = b"\0", {}
        for name in names:
            at[name] = len(table)
            table += name + b"\0"
        return table, at
    dynstr, dyn_at = strtab([b"_PyRuntime", b"Py_Version", b"libc.so.6", b"libm.so.6"])
    symstr, sym_at = strtab([b"main", b"helper", b"data"])
    text_addr = 0x1000
    # st_info: (bind << 4) | type; STB_GLOBAL 1, STT_OBJECT 1, STT_FUNC 2
    dynsym = SYM.pack(0, 0, 0, 0, 0, 0) + SYM.pack(dyn_at[b"_PyRuntime"], 0x11, 0, 6, 0x4000, 0x100) \
        + SYM.pack(dyn_at[b"Py_Version"], 0x11, 0, 6, 0x4100, 4)
    symtab = SYM.pack(0, 0, 0, 0, 0, 0) + SYM.pack(sym_at[b"main"], 0x12, 0, 5, text_addr, 16) \
        + SYM.pack(sym_at[b"helper"], 0x12, 0, 5, text_addr + 16, 0) \
        + SYM.pack(sym_at[b"data"], 0x11, 0, 6, 0x4200, 8)
    dynamic = struct.pack("<qQqQqQ", 1, dyn_at[b"libc.so.6"], 1, dyn_at[b"libm.so.6"], 0, 0)
    build_id = note(b"GNU", NT_GNU_BUILD_ID, bytes(range(40, 60)))
    text = b"\x90" * 32
    sections = [  # name, type, flags, link, entsize, data
        (b".note.gnu.build-id", 7, 2, 0, 0, build_id),
        (b".dynstr", 3, 2, 0, 0, dynstr),
        (b".dynsym", 11, 2, 2, SYM.size, dynsym),
        (b".dynamic", 6, 3, 2, 16, dynamic),
        (b".text", 1, 6, 0, 0, text),
        (b".data", 1, 3, 0, 0, b"\0" * 16),
        (b".bss", 8, 3, 0, 0, b""),
        (b".strtab", 3, 0, 0, 0, symstr),
        (b".symtab", 2, 0, 8, SYM.size, symtab),
    ]
    shstr, sh_at = strtab([name for name, *_ in sections] + [b".shstrtab"])
    sections.append((b".shstrtab", 3, 0, 0, 0, shstr))
    phnum = 3
    start = EHDR.size + phnum * PHDR.size
    body, placed = b"", []  # placed: (offset, size) of each section
    for name, sh_type, flags, link, entsize, data in sections:
        body += b"\0" * (-(start + len(body)) % 8)
        placed.append((start + len(body), len(data) if sh_type != 8 else 0x40))  # .bss: no bytes
        body += data
    body += b"\0" * (-(start + len(body)) % 8)
    shoff = start + len(body)
    shdrs = SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    for (name, sh_type, flags, link, entsize, data), (offset, size) in zip(sections, placed):
        address = text_addr if name == b".text" else (offset if flags & 2 else 0)
        shdrs += SHDR.pack(sh_at[name], sh_type, flags, address, offset, size, link,
                           1 if sh_type in (2, 11) else 0, 4 if sh_type == 7 else 8, entsize)
    note_offset, note_size = placed[0]
    dynamic_offset, dynamic_size = placed[3]
    phdrs = PHDR.pack(PT_LOAD, 5, 0, 0, 0, shoff, shoff, 0x1000)
    phdrs += PHDR.pack(PT_NOTE, 4, note_offset, note_offset, note_offset, note_size, note_size, 4)
    phdrs += PHDR.pack(2, 6, dynamic_offset, dynamic_offset, dynamic_offset, dynamic_size, dynamic_size, 8)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = EHDR.pack(ident, 3, EM_X86_64, 1, text_addr, EHDR.size, shoff, 0, EHDR.size, PHDR.size,
                     phnum, SHDR.size, len(sections) + 1, len(sections))
    return ehdr + phdrs + body + shdrs


# --- reading and shrinking real cores ----------------------------------------

def parse_core(data):
    ident, e_type, machine, _, _, phoff, _, _, _, phentsize, phnum, *_ = EHDR.unpack_from(data)
    phdrs = [PHDR.unpack_from(data, phoff + i * phentsize) for i in range(phnum)]
    notes = []
    for p_type, _, offset, _, _, filesz, _, _ in phdrs:
        if p_type != PT_NOTE:
            continue
        blob, at = data[offset:offset + filesz], 0
        while at + 12 <= len(blob):
            namesz, descsz, note_type = struct.unpack_from("<III", blob, at)
            name_at = at + 12
            desc_at = name_at + ((namesz + 3) & ~3)
            name = blob[name_at:name_at + namesz].rstrip(b"\0")
            notes.append((name, note_type, blob[desc_at:desc_at + descsz]))
            at = desc_at + ((descsz + 3) & ~3)
    loads = [(vaddr, memsz, flags, offset, filesz)
             for p_type, flags, offset, vaddr, _, filesz, memsz, _ in phdrs if p_type == PT_LOAD]
    return notes, loads


def read_memory(data, loads, address, size):
    for vaddr, memsz, _, offset, filesz in loads:
        if vaddr <= address and address + size <= vaddr + filesz:
            return data[offset + address - vaddr:offset + address - vaddr + size]
    return None


def image_extent(data, loads, start):
    """How many bytes from `start` MappedBuildId reads of the ELF image there."""
    header = read_memory(data, loads, start, EHDR.size)
    if header is None or header[:4] != b"\x7fELF":
        return 0
    _, _, _, _, _, phoff, _, _, _, phentsize, phnum, *_ = EHDR.unpack(header)
    phnum = min(phnum, 64)
    extent = phoff + phnum * PHDR.size
    phdrs = read_memory(data, loads, start + phoff, phnum * PHDR.size)
    if phdrs is None or phentsize != PHDR.size:
        return min(extent, PAGE)
    bias = None
    for i in range(phnum):
        p_type, _, _, vaddr, _, filesz, _, align = PHDR.unpack_from(phdrs, i * PHDR.size)
        if p_type == PT_LOAD and bias is None:
            bias = start - (vaddr & ~(max(align, 1) - 1))
        if p_type == PT_NOTE and bias is not None and 0 < filesz <= PAGE:
            extent = max(extent, vaddr + bias - start + filesz)
    return min(extent, PAGE)


def shrink(data):
    """A small valid core with what pyhang reads of a real one."""
    notes, loads = parse_core(data)
    kept_notes = [(n, t, d) for n, t, d in notes if n == b"CORE" and t in KEPT_NOTES]
    aux = {}
    for name, note_type, desc in kept_notes:
        if note_type == NT_AUXV:
            for i in range(0, len(desc) - 15, 16):
                aux.setdefault(*struct.unpack_from("<QQ", desc, i))
    keep = []  # [start, end) of memory whose bytes stay
    for name, note_type, desc in kept_notes:
        if note_type == NT_FILE:
            count = struct.unpack_from("<Q", desc)[0]
            for i in range(count):
                start, _, page_offset = struct.unpack_from("<QQQ", desc, 16 + 24 * i)
                if page_offset == 0:
                    keep.append((start, start + image_extent(data, loads, start)))
        elif note_type == NT_PRSTATUS:
            rsp = struct.unpack_from("<Q", desc, 112 + 19 * 8)[0]
            keep.append((rsp - 64, rsp + 256))
    if AT_SYSINFO_EHDR in aux:
        keep.append((aux[AT_SYSINFO_EHDR], aux[AT_SYSINFO_EHDR] + image_extent(data, loads, aux[AT_SYSINFO_EHDR])))
    if AT_EXECFN in aux:
        execfn = aux[AT_EXECFN]
        keep.append((execfn, execfn + 256))
        # The initial stack below it: argc, argv[], envp[] and the auxiliary
        # vector (which pyhang finds by NT_AUXV's bytes), and their strings.
        raw = next((d for n, t, d in kept_notes if t == NT_AUXV), b"")
        for vaddr, memsz, _, offset, filesz in loads:
            if vaddr <= execfn < vaddr + filesz and len(raw) >= 32:
                window = data[offset:offset + execfn - vaddr]
                at = window.rfind(raw[:32])
                if at >= 0:
                    keep.append((max(vaddr, vaddr + at - 1024), execfn))
    if AT_RANDOM in aux:
        keep.append((aux[AT_RANDOM], aux[AT_RANDOM] + 16))
    keep = sorted((s, e) for s, e in keep if e > s)
    merged = []
    for start, end in keep:
        if merged and start <= merged[-1][1] + 64:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))

    out_loads = []  # each segment split into pieces: with bytes where kept, else memsz only
    for vaddr, memsz, flags, offset, filesz in sorted(loads):
        at = vaddr
        for start, end in merged:
            start, end = max(start, vaddr), min(end, vaddr + filesz)
            if start >= end:
                continue
            if start > at:
                out_loads.append((at, start - at, flags, b""))
            out_loads.append((start, end - start, flags, data[offset + start - vaddr:offset + end - vaddr]))
            at = end
        if at < vaddr + memsz:
            out_loads.append((at, vaddr + memsz - at, flags, b""))
    out_notes = b"".join(note(n, t, d[:512] if t == NT_FPREGSET else d) for n, t, d in kept_notes)
    core = write_core(out_notes, out_loads)
    # Too big for -max_len: drop the memory bytes, the largest pieces first.
    while len(core) > MAX_SEED and any(piece[3] for piece in out_loads):
        biggest = max(range(len(out_loads)), key=lambda i: len(out_loads[i][3]))
        vaddr, memsz, flags, _ = out_loads[biggest]
        out_loads[biggest] = (vaddr, memsz, flags, b"")
        core = write_core(out_notes, out_loads)
    return core


def gcore(argv, workdir, ready=None):
    """The core of a process running `argv`, as `gcore` writes it; None on failure."""
    if not shutil.which("gcore"):
        return None
    # A small environment: the seeds hold the initial stack, strings and all.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=environment)
    try:
        if ready is not None:
            line = process.stdout.readline()  # the process is set up
            if ready not in line:
                return None
        else:
            time.sleep(0.2)
        prefix = os.path.join(workdir, "core")
        result = subprocess.run(["gcore", "-o", prefix, str(process.pid)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, timeout=120)
        path = f"{prefix}.{process.pid}"
        if result.returncode != 0 or not os.path.exists(path):
            sys.stderr.write(f"make_seeds.py: gcore {argv[0]} failed: {result.stderr.decode()[-300:]}\n")
            return None
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data
    except subprocess.TimeoutExpired:
        return None
    finally:
        process.kill()
        process.wait()


PYTHON_WORKLOAD = r"""
import sys, threading, time
event = threading.Event()
def worker():
    event.wait()
threading.Thread(target=worker, name="worker", daemon=True).start()
print("ready", flush=True)
time.sleep(60)
"""


def compress(tool, args, data):
    if not shutil.which(tool):
        return None
    return subprocess.run([tool] + args, input=data, stdout=subprocess.PIPE, check=True).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--no-gcore", action="store_true", help="synthetic seeds only")
    options = parser.parse_args()
    core_dir, input_dir = os.path.join(options.outdir, "core"), os.path.join(options.outdir, "input")
    for directory in (core_dir, input_dir):
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)

    cores = {
        "synthetic-crash": synthetic_core(crash=True),
        "synthetic-gcore": synthetic_core(crash=False, threads=3),
        "synthetic-relative": synthetic_core(crash=False, relative=True),
    }
    if not options.no_gcore:
        with tempfile.TemporaryDirectory(prefix="pyhang-seeds-") as workdir:
            python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
            for name, argv, ready in [("gcore-sleep", ["sleep", "30", "30"], None),
                                      ("gcore-python", [python, "-c", PYTHON_WORKLOAD], b"ready")]:
                data = gcore(argv, workdir, ready)
                if data is None:
                    sys.stderr.write(f"make_seeds.py: no {name} seed (gcore failed)\n")
                    continue
                cores[name] = shrink(data)

    seeds = dict(cores)
    base = cores["synthetic-crash"]
    seeds["empty"] = b""
    seeds["elf-header-only"] = base[:EHDR.size]
    seeds["cut-in-phdrs"] = base[:EHDR.size + PHDR.size + 20]
    notes_at = EHDR.size + PHDR.size * struct.unpack_from("<H", base, 56)[0]
    seeds["cut-in-notes"] = base[:notes_at + 700]
    seeds["cut-in-memory"] = base[:len(base) - 300]
    seeds["not-a-core"] = base[:16] + struct.pack("<H", 3) + base[18:]  # ET_DYN
    for name, data in cores.items():
        if name.startswith("gcore"):
            seeds[f"{name}-truncated"] = data[:len(data) * 2 // 3]
    for name, data in seeds.items():
        with open(os.path.join(core_dir, name), "wb") as f:
            f.write(data)

    inputs = {"plain-" + name: seeds[name] for name in ("synthetic-crash", "empty", "cut-in-notes")}
    # ELF files as a core names them (the input fuzzer reads its input as one too).
    inputs["elf-synthetic.so"] = elf_with_sections()
    for path in ("/usr/lib/x86_64-linux-gnu/libdl.so.2", "/usr/bin/true"):
        if os.path.isfile(path) and os.path.getsize(path) <= MAX_SEED:
            with open(path, "rb") as f:
                inputs["elf-host-" + os.path.basename(path)] = f.read()
            break
    small = [n for n in ("synthetic-crash", "gcore-sleep") if n in cores]
    for name in small:
        # Small windows, blocks and dictionaries: each run's decoder then
        # allocates little (xz's default dictionary is 8 MiB, lz4's block 4 MiB).
        for tool, args, suffix in [("zstd", ["-q", "-c", "-19"], "zst"), ("lz4", ["-q", "-c", "-B4"], "lz4"),
                                   ("xz", ["-q", "-c", "--lzma2=preset=6,dict=64KiB"], "xz")]:
            packed = compress(tool, args, cores[name])
            if packed is None:
                sys.stderr.write(f"make_seeds.py: no {tool}: no .{suffix} seeds\n")
                continue
            inputs[f"{name}.{suffix}"] = packed
            inputs[f"{name}-cut.{suffix}"] = packed[:len(packed) // 2]
    for name, data in inputs.items():
        with open(os.path.join(input_dir, name), "wb") as f:
            f.write(data)
    sizes = sorted((len(d), n) for n, d in {**seeds, **inputs}.items())
    print(f"make_seeds.py: {len(seeds)} core seeds, {len(inputs)} input seeds, largest "
          f"{sizes[-1][1]} ({sizes[-1][0]} bytes)")


if __name__ == "__main__":
    main()
