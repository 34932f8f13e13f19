"""Fuzz campaign: mutated copies of real files through every reader, each in its own process with time and memory limits.

Run: python benchmarks/fuzz.py                    (10,000 inputs per reader, seed 0)
     python benchmarks/fuzz.py --n 200 --readers rtplan,trf --save fuzz-cases

Seeds are real files: pymedphys' RT Plans, and the demo clinic's RT Plans, Monaco
tel.1 files, plan and RadCalc PDFs, iCOM archives and plancheck.toml (built by
``plancheck demo``'s writers), TRFs from plancheck's writer, and the shipped rule
files. Each input is 1-4 mutations of a seed (bit flips, byte runs, 32-bit
lengths made huge, cuts, splices, garbage prefixes, and for text files lines
duplicated, dropped or given odd tokens), fixed by ``--seed`` and its index. A
forked child reads it with RLIMIT_AS (default 3 GiB) and is killed after the time
limit (default 5 s). The goal is the issue 11 table with 0 untyped, 0 hangs and
0 memory blow-ups: every reader ends in a result or one of plancheck's typed errors.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import importlib.util
import json
import logging
import lzma
import os
import random
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: threads reserve address space under RLIMIT_AS
os.environ.setdefault("MPLBACKEND", "Agg")

import pymedphys

from plancheck import deliveries
from plancheck.errors import PlancheckError

logging.disable(logging.CRITICAL)  # the readers' warnings are part of their result, not of this table

PMP = Path(pymedphys.__file__).parent
PID = "015112"
ODD_TOKENS = [b"nan", b".nan", b".inf", b"-1e400", b"1e400", b"[", b"]", b"{", b"}", b"\x00", b"\xff\xfe", b"'", b'"', b"&", b"*a",
              b"!!python/object:os.system", b"0x" + b"f" * 40, b"9" * 400, b"[" * 300, b"- " * 200, b"\t", b"\r", b"=", b":", b"%"]


@dataclasses.dataclass
class Target:
    """One reader: its seed files, whether they are text, and how to read one mutated input (in ``work``)."""

    name: str
    seeds: list[bytes]
    text: bool
    run: Callable[[bytes, Path], None]


# ---- mutations ------------------------------------------------------------------------------
def mutate(data: bytes, rng: random.Random, seeds: list[bytes], text: bool) -> bytes:
    """1-4 random edits of ``data``; text seeds also get line edits."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        ops = BYTE_OPS + (LINE_OPS if text else [])
        out = bytearray(rng.choice(ops)(bytes(out), rng, seeds))
    return bytes(out)


def _pos(data: bytes, rng: random.Random) -> int:
    return rng.randrange(len(data) + 1)


def _flip(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def _overwrite(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    i = _pos(data, rng)
    return data[:i] + rng.randbytes(rng.randint(1, 16)) + data[i + 16:]


def _big_length(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    i = _pos(data, rng)
    value = rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFF0, 0x10000000, 0x80000000])
    return data[:i] + value.to_bytes(4, rng.choice(["little", "big"])) + data[i + 4:]


def _cut(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    i = _pos(data, rng)
    return data[:i] if rng.random() < 0.5 else data[:i] + data[i + rng.randint(1, 256):]


def _duplicate(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    i = _pos(data, rng)
    span = data[i:i + rng.randint(1, 512)]
    return data[:i] + span * rng.randint(2, 20) + data[i:]


def _splice(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    other = rng.choice(seeds)
    return data[:_pos(data, rng)] + other[_pos(other, rng):]


def _prefix(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    return rng.randbytes(rng.randint(1, 300)) + data


def _insert_token(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    i = _pos(data, rng)
    return data[:i] + rng.choice(ODD_TOKENS) + data[i:]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _line_drop(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def _line_dup(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.randint(1, 50)
    return b"\n".join(lines)


def _line_value(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    """A value after ``:``, ``=`` or ``,`` replaced by an odd token (numbers, brackets, NUL, huge)."""
    lines = _lines(data)
    i = rng.randrange(len(lines))
    for sep in (b":", b"=", b","):
        if sep in lines[i]:
            lines[i] = lines[i].split(sep, 1)[0] + sep + b" " + rng.choice(ODD_TOKENS)
            break
    return b"\n".join(lines)


def _line_indent(data: bytes, rng: random.Random, _: list[bytes]) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i] = b" " * rng.randint(1, 9) + lines[i]
    return b"\n".join(lines)


BYTE_OPS = [_flip, _overwrite, _big_length, _cut, _duplicate, _splice, _prefix, _insert_token]
LINE_OPS = [_line_drop, _line_dup, _line_value, _line_indent, _line_value, _line_value]


# ---- one input in a child process ------------------------------------------------------------------
def _where(exc: BaseException) -> str:
    """The innermost plancheck frame (else the innermost frame) where ``exc`` was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/plancheck/" in f.filename] or frames
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"


def _child(target: Target, data: bytes, work: Path, memory_bytes: int, write_fd: int) -> None:
    quiet = os.open(os.devnull, os.O_WRONLY)  # libraries print and warn about bad input; the table is what counts
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    warnings.simplefilter("ignore")
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        target.run(data, work)
        outcome = {"kind": "ok"}
    except PlancheckError as exc:
        outcome = {"kind": "typed", "type": type(exc).__name__}
    except MemoryError:
        outcome = {"kind": "memory"}
    except BaseException as exc:  # the point of the campaign: find anything that is not a typed error
        outcome = {"kind": "untyped", "type": type(exc).__name__, "where": _where(exc), "message": str(exc)[:200]}
    os.write(write_fd, json.dumps(outcome).encode())
    os._exit(0)


def run_input(target: Target, data: bytes, work: Path, timeout_s: float, memory_bytes: int) -> dict[str, str]:
    """Read one input in a forked child: its outcome, or hang / crash."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _child(target, data, work, memory_bytes, write_fd)
        finally:
            os._exit(70)
    os.close(write_fd)
    ready, _, _ = select.select([read_fd], [], [], timeout_s)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_fd)
        return {"kind": "hang"}
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        code = os.waitstatus_to_exitcode(status)
        return {"kind": "untyped", "type": f"crash (exit {code})", "where": "?", "message": ""}
    return json.loads(b"".join(chunks))


# ---- the targets -------------------------------------------------------------------------------------
def _config(**folders: Path) -> Any:
    from plancheck.config import Config

    fields: dict[str, Any] = {f"{k}_dir": v for k, v in folders.items()}
    return Config(**fields)


def _fresh(work: Path, name: str) -> Path:
    folder = work / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _rows_fit(rows: list) -> None:
    from plancheck.table import ParamTable

    ParamTable().extend(rows)


def run_rtplan(data: bytes, work: Path) -> None:
    from plancheck.sources import Request, rtplan

    root = _fresh(work, "dicom")
    (root / PID).mkdir()
    (root / PID / "RP.fuzz.dcm").write_bytes(data)
    reading = rtplan.read(Request(PID, None, _config(dicom=root)))
    if reading is not None:
        _rows_fit(reading.rows)


def run_trf(data: bytes, work: Path, good: bytes = b"") -> None:
    import datetime as dt

    from plancheck.sources import Request, trf
    from plancheck.fabricate.trf import indexed_trf_path

    root = _fresh(work, "trf")
    bad = indexed_trf_path(root, PID, "DEMO", "CLEAN", "1-1", "G180", dt.datetime(2024, 1, 2, 9), "2619")
    ok = indexed_trf_path(root, PID, "DEMO", "CLEAN", "1-2", "G0", dt.datetime(2024, 1, 2, 10), "2619")
    for path, content in ((bad, data), (ok, good or TRF_GOOD[1])):
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
    reading = trf.read(Request(PID, None, _config(trf=root)))
    if reading is None or "1-2" not in reading.deliveries:
        raise AssertionError("a bad TRF lost the good one beside it")
    _rows_fit(reading.rows)


def run_tel(data: bytes, work: Path) -> None:
    from plancheck.sources.monaco import read_tel
    from plancheck.sources.monaco.reader import beam_rows

    path = _fresh(work, "tel") / "tel.1"
    path.write_bytes(data)
    tel = read_tel(path)
    for beam in tel.beams:
        _rows_fit(beam_rows(beam, beam.label or "1", str(path)))


def run_pdf(data: bytes, work: Path) -> None:
    from plancheck.sources.pdfplan.parse import parse_file
    from plancheck.sources.pdfplan.source import rows_from_parsed
    from plancheck.sources.pdfplan.template import load_templates

    path = _fresh(work, "pdf") / "report.pdf"
    path.write_bytes(data)
    _rows_fit(rows_from_parsed(parse_file(path, load_templates())))


def run_rules(data: bytes, work: Path) -> None:
    from plancheck.rules.loader import RuleLibrary

    folder = _fresh(work, "rules")
    (folder / "clinic.yaml").write_bytes(data)
    RuleLibrary((folder,)).validate()


def run_config(data: bytes, work: Path) -> None:
    from plancheck.config import load_config

    path = _fresh(work, "config") / "plancheck.toml"
    path.write_bytes(data)
    load_config(path)


def run_icom(data: bytes, work: Path) -> None:
    from plancheck.sources import Request
    from plancheck.sources.icom import source

    folder = _fresh(work, "icom") / "patients" / f"{PID}_DEMO, CLEAN"
    folder.mkdir(parents=True)
    (folder / "20240102_090000.xz").write_bytes(data if data.startswith(b"\xfd7zXZ") else lzma.compress(data))
    reading = source.read(Request(PID, None, _config(icom=folder.parent.parent)))
    if reading is not None:
        _rows_fit(reading.rows)


# ---- seeds -----------------------------------------------------------------------------------------
TRF_GOOD: list[bytes] = []


def build_seeds(work: Path) -> dict[str, Target]:
    """Real files for every reader: pymedphys' and the demo clinic's (built once by the demo's writers)."""
    from plancheck.demo.clinic import build_clinic
    from plancheck.rules.loader import shipped_dir

    demo = work / "demo"
    build_clinic(demo)
    plans = [PMP / "_experimental/serviceplans/templates/vmat_example.dcm", PMP / "tests/dicom/data/rtplan/06MV_plan.dcm",
             *sorted((demo / "dicom").rglob("*.dcm"))]
    TRF_GOOD.extend(_trf_seeds(work / "trf-seeds"))
    archives = sorted((demo / "icom" / "patients").rglob("*.xz"), key=lambda p: PID not in p.parent.name)  # PID's first
    icom = [lzma.decompress(p.read_bytes()) for p in archives]
    return {**_icom_targets(icom),
        "DICOM RT Plan": Target("DICOM RT Plan", [p.read_bytes() for p in plans], False, run_rtplan),
        "TRF": Target("TRF", list(TRF_GOOD), False, run_trf),
        "tel.1": Target("tel.1", [p.read_bytes() for p in sorted((demo / "FocalData").rglob("tel.1"))], True, run_tel),
        "PDF": Target("PDF", [p.read_bytes() for p in sorted((demo / "mosaiq-documents").glob("*.pdf"))][:4], False, run_pdf),
        "rule YAML": Target("rule YAML", [p.read_bytes() for p in sorted(shipped_dir().glob("*.yaml"))], True, run_rules),
        "plancheck.toml": Target("plancheck.toml", [(demo / "plancheck.toml").read_bytes()], True, run_config),
    }


def _icom_targets(streams: list[bytes]) -> dict[str, Target]:
    """The iCOM reader's own fuzzing entry points (reader, listener's splitter, archive reading) where it has them."""
    if importlib.util.find_spec("plancheck.icom_service.fuzzing") is None:
        return {"iCOM": Target("iCOM", streams, False, run_icom)}
    fuzzing: Any = importlib.import_module("plancheck.icom_service.fuzzing")  # the iCOM reader's own entry points

    good = lzma.compress(streams[0])  # a delivery of patient PID, stored beside the mutated archive as 20240501_100000.xz

    def archive(data: bytes, _: Path) -> None:
        keys, _warnings = fuzzing.read_archive(data if data.startswith(b"\xfd7zXZ") else lzma.compress(data), good, patient_id=PID)
        if not any("20240501_100000" in k for k in keys):
            raise AssertionError("a bad iCOM archive lost the good one beside it")

    return {
        "iCOM": Target("iCOM", streams, False, lambda data, _: fuzzing.read_stream(data)),
        "iCOM splitter": Target("iCOM splitter", streams, False, lambda data, work: fuzzing.split_stream(data, _fresh(work, "split"))),
        "iCOM archive": Target("iCOM archive", streams, False, archive),
    }


def _trf_seeds(folder: Path) -> list[bytes]:
    from plancheck.config import Machine
    from plancheck.fabricate.trf import trf_from_delivery

    static, vmat = PMP / "tests/dicom/data/rtplan/06MV_plan.dcm", PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
    out = []
    for plan, beam, label, version in ((static, "10x10", "1-1", 4), (static, "05x05", "1-2", 3), (vmat, "1-2", "1-2", 2), (vmat, "1-1", "1-1", 1)):
        delivery = deliveries.from_dicom(plan, beam=beam)
        delivery = delivery.replace(mu=delivery.mu * 40.0 / delivery.total_mu)  # 40 MU: a few hundred rows, read in well under a second
        path = trf_from_delivery(delivery, folder / f"{label}-v{version}.trf", machine=Machine("2619"),
                                 field_label=label, version=version)
        out.append(path.read_bytes())
    return out


# ---- the campaign --------------------------------------------------------------------------------
@dataclasses.dataclass
class Tally:
    inputs: int = 0
    ok_or_typed: int = 0
    hangs: int = 0
    memory: int = 0
    untyped: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    seconds: float = 0.0

    def add(self, outcome: dict[str, str]) -> None:
        self.inputs += 1
        kind = outcome["kind"]
        if kind in ("ok", "typed"):
            self.ok_or_typed += 1
        elif kind == "hang":
            self.hangs += 1
        elif kind == "memory":
            self.memory += 1
        else:
            self.untyped[f"{outcome['type']} at {outcome['where']}"] += 1


def campaign(target: Target, n: int, seed: int, work: Path, timeout_s: float, memory_bytes: int, save: Path | None) -> Tally:
    tally = Tally()
    start = time.perf_counter()
    for index in range(n):
        rng = random.Random(f"{seed}:{target.name}:{index}")
        data = mutate(rng.choice(target.seeds), rng, target.seeds, target.text)
        outcome = run_input(target, data, work, timeout_s, memory_bytes)
        tally.add(outcome)
        if save is not None and outcome["kind"] not in ("ok", "typed"):
            folder = save / target.name.replace(" ", "_")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{index:06d}.bin").write_bytes(data)
            (folder / f"{index:06d}.json").write_text(json.dumps(outcome), encoding="utf-8")
    tally.seconds = time.perf_counter() - start
    return tally


def table(results: dict[str, Tally]) -> str:
    lines = ["| reader | inputs | ok or typed | untyped | hangs | memory blow-ups | s/input |", "|---|---|---|---|---|---|---|"]
    for name, t in results.items():
        untyped = sum(t.untyped.values())
        detail = "; ".join(f"{count}: {what}" for what, count in t.untyped.most_common(6))
        lines.append(f"| {name} | {t.inputs:,} | {t.ok_or_typed:,} | {untyped}{' (' + detail + ')' if detail else ''} | {t.hangs} | {t.memory} | "
                     f"{t.seconds / max(t.inputs, 1):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="inputs per reader (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readers", default="", help="comma-separated (default: all): rtplan, trf, tel, pdf, icom, icom-splitter, icom-archive, rules, config")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per input (default 5)")
    parser.add_argument("--memory-gib", type=float, default=3.0, help="address-space limit per input (default 3 GiB)")
    parser.add_argument("--save", type=Path, help="keep every input that was not ok-or-typed here, with its outcome")
    args = parser.parse_args(argv)
    short = {"rtplan": "DICOM RT Plan", "trf": "TRF", "tel": "tel.1", "pdf": "PDF", "icom": "iCOM", "icom-splitter": "iCOM splitter",
             "icom-archive": "iCOM archive", "rules": "rule YAML", "config": "plancheck.toml"}
    wanted = [short[r.strip()] for r in args.readers.split(",") if r.strip()] or list(short.values())
    with tempfile.TemporaryDirectory(prefix="plancheck-fuzz-") as tmp:
        work = Path(tmp)
        targets = build_seeds(work)
        results = {}
        for name in [w for w in wanted if w in targets]:
            results[name] = campaign(targets[name], args.n, args.seed, work / "inputs", args.timeout, int(args.memory_gib * 2**30), args.save)
            print(f"{name}: {results[name].inputs} inputs in {results[name].seconds:.0f} s", file=sys.stderr, flush=True)
    print(table(results))
    bad = sum(sum(t.untyped.values()) + t.hangs + t.memory for t in results.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
