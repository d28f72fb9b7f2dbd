#!/usr/bin/env python3
"""Compiles git-model-bench's kernels (kernels.cu) into one fat binary with NVRTC, at build time.

NVRTC 11.8 (PyPI's nvidia-cuda-nvrtc-cu11, which scripts/install-deps puts in .whl/venv) compiles
CUDA C++ for sm_35 to sm_90 and emits PTX ISA 7.8, which every driver from r520 up JIT-compiles:
the CUDA 13 toolkit compiles for sm_75 and newer only and emits ISA 9.x (driver r580 and newer).
This script asks NVRTC for SASS (a cubin) per --sass architecture and PTX per --ptx architecture,
refuses PTX above --max-ptx-isa, and packs them with the toolkit's `fatbinary`, uncompressed so
that old drivers read it. CMake runs it (git-model-bench/CMakeLists.txt); it installs nothing.

usage: build_kernels.py --nvrtc LIB --fatbinary EXE --source FILE -I DIR... --sass 70,75 --ptx 70
                        --max-ptx-isa 7.8 --output FILE
"""
import argparse
import concurrent.futures
import ctypes
import os
import re
import subprocess
import sys
import tempfile

# NVRTC has no C++ standard library; pattern.hpp needs these fixed-width types only.
CSTDINT = b"""#pragma once
namespace std {
typedef signed char int8_t; typedef short int16_t; typedef int int32_t; typedef long long int64_t;
typedef unsigned char uint8_t; typedef unsigned short uint16_t; typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
}
"""


class Nvrtc:
    """The few NVRTC entry points used, loaded from the given library."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        major, minor = ctypes.c_int(), ctypes.c_int()
        self.check(self.lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "nvrtcVersion")
        self.version = (major.value, minor.value)

    def check(self, result, call):
        if result != 0:
            raise RuntimeError(f"{call}: {self.lib.nvrtcGetErrorString(result).decode()}")

    def compile(self, source, name, options, want_cubin):
        """Compiles source; returns the cubin (want_cubin) or the PTX, as bytes."""
        program = ctypes.c_void_p()
        headers = (ctypes.c_char_p * 1)(CSTDINT)
        header_names = (ctypes.c_char_p * 1)(b"cstdint")
        self.check(self.lib.nvrtcCreateProgram(ctypes.byref(program), source, name.encode(), 1, headers,
                                               header_names), "nvrtcCreateProgram")
        try:
            encoded = [o.encode() for o in options]
            argv = (ctypes.c_char_p * len(encoded))(*encoded)
            result = self.lib.nvrtcCompileProgram(program, len(encoded), argv)
            size = ctypes.c_size_t()
            self.check(self.lib.nvrtcGetProgramLogSize(program, ctypes.byref(size)), "nvrtcGetProgramLogSize")
            log = ctypes.create_string_buffer(size.value)
            self.check(self.lib.nvrtcGetProgramLog(program, log), "nvrtcGetProgramLog")
            text = log.value.decode(errors="replace").strip()
            if result != 0:
                raise RuntimeError(f"NVRTC could not compile {name} ({' '.join(options)}):\n{text}")
            if text:
                # Warnings fail the build as the host code's do: kernels stay warning-free.
                raise RuntimeError(f"NVRTC warned on {name} ({' '.join(options)}):\n{text}")
            get_size, get = (("nvrtcGetCUBINSize", "nvrtcGetCUBIN") if want_cubin else ("nvrtcGetPTXSize", "nvrtcGetPTX"))
            self.check(getattr(self.lib, get_size)(program, ctypes.byref(size)), get_size)
            out = ctypes.create_string_buffer(size.value)
            self.check(getattr(self.lib, get)(program, out), get)
            return out.raw if want_cubin else out.value
        finally:
            self.lib.nvrtcDestroyProgram(ctypes.byref(program))


def ptx_isa(ptx):
    """The ISA version of PTX text, e.g. (7, 8) for '.version 7.8'."""
    match = re.search(rb"^\s*\.version\s+(\d+)\.(\d+)", ptx, re.MULTILINE)
    if not match:
        raise RuntimeError("the PTX has no .version line")
    return int(match.group(1)), int(match.group(2))


def architectures(text):
    return [a for a in re.split(r"[,;]", text or "") if a]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvrtc", required=True, help="libnvrtc.so to load")
    parser.add_argument("--fatbinary", required=True, help="the CUDA toolkit's fatbinary")
    parser.add_argument("--source", required=True)
    parser.add_argument("-I", dest="includes", action="append", default=[])
    parser.add_argument("--sass", default="", help="architectures to build SASS for, e.g. 70,75,80")
    parser.add_argument("--ptx", default="", help="architectures to emit PTX for, e.g. 70")
    parser.add_argument("--max-ptx-isa", default="7.8", help="refuse PTX of a newer ISA")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    sass, ptx = architectures(args.sass), architectures(args.ptx)
    if not sass and not ptx:
        sys.exit("build_kernels.py: no architecture to build for")
    nvrtc = Nvrtc(args.nvrtc)
    with open(args.source, "rb") as f:
        source = f.read()
    common = ["-std=c++17", "--device-as-default-execution-space"] + [f"-I{d}" for d in args.includes]
    name = os.path.basename(args.source)
    max_isa = tuple(int(x) for x in args.max_ptx_isa.split("."))

    jobs = [("elf", a, [f"--gpu-architecture=sm_{a}"] + common) for a in sass]
    jobs += [("ptx", a, [f"--gpu-architecture=compute_{a}"] + common) for a in ptx]
    # NVRTC releases the GIL while it compiles: the images build in parallel.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        images = list(pool.map(lambda job: (job[0], job[1], nvrtc.compile(source, name, job[2], job[0] == "elf")), jobs))

    with tempfile.TemporaryDirectory() as work:
        command = [args.fatbinary, f"--create={args.output}", "--64", "--compress=false"]
        for kind, arch, data in images:
            if kind == "ptx" and ptx_isa(data) > max_isa:
                sys.exit(f"build_kernels.py: NVRTC {nvrtc.version[0]}.{nvrtc.version[1]} emitted PTX ISA "
                         f"{'.'.join(map(str, ptx_isa(data)))} for compute_{arch}, above {args.max_ptx_isa}: "
                         "drivers older than that ISA could not load it")
            path = os.path.join(work, f"kernels.{arch}.{'cubin' if kind == 'elf' else 'ptx'}")
            with open(path, "wb") as f:
                f.write(data)
            command.append(f"--image3=kind={kind},sm={re.sub(r'[^0-9]', '', arch)},file={path}")
        subprocess.run(command, check=True)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        sys.exit(f"build_kernels.py: {e}")
