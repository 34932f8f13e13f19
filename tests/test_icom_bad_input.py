"""The iCOM listener under bad input: crafted streams through the loopback simulator, and fuzzed reader and splitter.

Each crafted stream is the writer's stream of a real RT Plan (shipped in pymedphys)
with one kind of damage a link or a linac can produce. For each: the journal
equals the bytes sent; every message that cannot be read is set aside (the
quarantine holds exactly those bytes); every other message of a delivery is
archived byte for byte; the listener restarted mid-delivery, right after the bad
message, replays it and records on. The fuzz tests mutate real streams and assert
only typed errors, bounded time and bounded memory.
"""

from __future__ import annotations

import errno
import functools
import logging
import lzma
import re
import signal
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_icom_listener import (
    RATE_HZ,
    START,
    VMAT,
    WAIT_S,
    archived,
    cleanup,
    per_delivery,
    programme,
    start,
    stop_at_the_pause_and_restart,
    wait_for,
)

from plancheck import deliveries
from plancheck.errors import SourceError
from plancheck.sources.icom import fields as F
from plancheck.icom_service.archive import Archiver
from plancheck.icom_service.fuzzing import read_archive, read_stream, split_stream
from plancheck.icom_service.journal import Position
from plancheck.icom_service.listener import Listener, ListenerOptions
from plancheck.paths import safe_name
from plancheck.icom_service.quarantine import Quarantine
from plancheck.sources.icom.reader import (
    MAX_MESSAGE_BYTES,
    iter_items,
    message_starts,
    read_icom,
)
from plancheck.fabricate.linac import SimMessage, Simulator
from plancheck.icom_service.splitter import Framer, Splitter
from plancheck.fabricate.icom import write_icom_stream

__all__ = ["cleanup"]  # the fixture, shared with test_icom_listener

NAME = b"DOE, JANE"  # what the simulator's Beam("...", "DOE^JANE", ...) puts in the stream
JUNK_BYTES = 3 << 20


# ---- damage, applied to the writer's messages --------------------------------


def true_length(message: bytes) -> bytes:
    """plancheck's header declares the message length: keep it true after an edit, as a linac's own header would be."""
    return len(message).to_bytes(4, "little") + message[4:]


def empty_piece(message: bytes) -> bytes:
    """Two position item headers back to back: the first leaf position lost its length and value."""
    prefix = F.POSITION.header(0)[:8]
    first = message.index(prefix)
    second = message.index(prefix, first + len(prefix))
    return true_length(message[: first + len(prefix)] + message[second:])


def flipped_name_length(message: bytes, bit: int = 8) -> bytes:
    """One flipped bit in the patient name's length field: 9 becomes 265, the name swallows the items after it."""
    at = message.index(F.BY_NAME["patient_name"].header(len(NAME))) + 8
    length = int.from_bytes(message[at : at + 4], "little") ^ (1 << bit)
    return message[:at] + length.to_bytes(4, "little") + message[at + 4 :]


def long_name(message: bytes, length: int = 400) -> bytes:
    """A 400-character patient name, correctly encoded."""
    old = F.BY_NAME["patient_name"].header(len(NAME)) + NAME
    return true_length(message.replace(old, F.BY_NAME["patient_name"].header(length) + (NAME + b" ") * (length // 10) + NAME[: length % 10]))


def traversing_id(message: bytes) -> bytes:
    """A patient ID that climbs out of the archive folder if used as a path."""
    old = F.BY_NAME["patient_id"].header(6) + b"015112"
    new = b"../../../outside"
    return true_length(message.replace(old, F.BY_NAME["patient_id"].header(len(new)) + new))


def bad_date(message: bytes) -> bytes:
    """Month 13: the timestamp pattern matches, the date does not exist."""
    return message[: F.HEADER_SIZE + 5] + b"13" + message[F.HEADER_SIZE + 7 :]


def no_timestamps(message: bytes) -> bytes:
    """One message header, then megabytes of items and no timestamp: the framer must neither grow nor re-scan."""
    body = message[F.ITEMS_OFFSET :]
    return message[: F.ITEMS_OFFSET] + body * (JUNK_BYTES // len(body))


def garbage(_: bytes) -> bytes:
    return bytes(range(256)) * 4


# ---- crafted programmes --------------------------------------------------------


def damaged(prog: list[SimMessage], damage: Callable[[bytes], bytes], which: str) -> list[SimMessage]:
    """The programme with one kind of damage; messages that cannot be read are marked ``bad`` (they belong to no delivery)."""
    out = list(prog)
    first = [i for i, m in enumerate(out) if m.delivery == 0]
    if which == "start":
        return [SimMessage(damage(b""), "bad"), *out]
    if which == "whole delivery 1":  # readable, odd content: the delivery stays whole
        return [SimMessage(damage(m.data), m.kind, m.delivery) if m.delivery == 1 else m for m in out]
    i = first[0] if which == "first of delivery 0" else first[len(first) // 3]
    if which == "inserted in delivery 0":
        return [*out[: i + 1], SimMessage(damage(out[i].data), "bad"), *out[i + 1 :]]
    out[i] = SimMessage(damage(out[i].data), "bad")
    return out


CRAFTED = {
    "empty piece": (empty_piece, "inside delivery 0"),
    "flipped name length": (flipped_name_length, "first of delivery 0"),
    "bad date": (bad_date, "inside delivery 0"),
    "no timestamps": (no_timestamps, "inserted in delivery 0"),
    "garbage first": (garbage, "start"),
    "400-char name": (long_name, "whole delivery 1"),
    "traversing patient ID": (traversing_id, "whole delivery 1"),
}


def inside_a_delivery(prog: list[SimMessage]) -> list[bytes]:
    """Bad messages that arrive while a delivery is open: kept with that patient's unreadable records."""
    out = []
    for i, m in enumerate(prog):
        if m.kind != "bad":
            continue
        before = next((p.delivery for p in reversed(prog[:i]) if p.kind != "bad"), None)
        after = next((p.delivery for p in prog[i + 1 :] if p.kind != "bad"), None)
        if before is not None and before == after:
            out.append(m.data)
    return out


class LiveListener:
    """The real Listener in a thread, on loopback."""

    def __init__(self, sim: Simulator, directory: Path) -> None:
        self.options = ListenerOptions(machine="SIM", host="127.0.0.1", port=sim.port, directory=directory, drain_timeout_s=2.0,
                                       backoff_initial_s=0.05, backoff_max_s=0.2, timeout_s=600.0)
        self.listener = Listener(self.options)
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.listener.run()
        except BaseException as exc:  # the test asserts there was none
            self.failure.append(exc)

    def stop(self) -> None:
        self.listener.stop()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive() and not self.failure, self.failure

    def journal(self) -> bytes:
        return b"".join(p.read_bytes() for p in sorted(self.options.journal_dir.glob("*.raw")))


def deliveries_done(listener: Listener) -> int:
    return sum(listener.splitter.counts[s] for s in ("archived", "duplicate", "no_mu"))


FIGURES: dict[str, dict[str, int]] = {}


@pytest.mark.parametrize("kind", list(CRAFTED))
def test_crafted_stream_is_journalled_set_aside_archived_and_survives_a_restart(tmp_path: Path, cleanup: list, kind: str) -> None:
    damage, which = CRAFTED[kind]
    prog = damaged(programme(beams=2), damage, which)
    bad_at = next((i for i, m in enumerate(prog) if m.kind == "bad"), len(prog) // 4)
    sim = start(Simulator(prog, rate_hz=RATE_HZ, pause_after=[bad_at + 3], record_path=tmp_path / "links.jsonl"), cleanup)
    folder = tmp_path / "icom"

    first = LiveListener(sim, folder)
    cleanup.append(first.listener.stop)
    assert sim.paused.wait(WAIT_S)
    sent_so_far = sim.sent_bytes(kind=None)
    wait_for(lambda: first.journal() == sent_so_far, what="the journal to hold every byte sent")
    first.stop()  # restarted right after the bad message: the journal replay meets it first

    second = LiveListener(sim, folder)
    cleanup.append(second.listener.stop)
    wait_for(lambda: len(sim.connections) == 2, what="the restarted listener to connect")
    sim.resume()
    assert sim.wait_sent(timeout_s=WAIT_S)
    wait_for(lambda: deliveries_done(second.listener) == 2, what="both deliveries archived")
    second.stop()

    assert sim.wait_connections_ended(2, WAIT_S) and [c.ended_by for c in sim.connections] == ["client_fin", "client_fin"]
    sent = sim.sent_bytes(kind=None)
    assert second.journal() == sent  # every byte, in order
    assert archived(folder) == per_delivery(sim)  # every readable message of each delivery, byte for byte
    bad = [m.data for m in prog if m.kind == "bad"]
    quarantine = Quarantine(second.options.quarantine_dir)
    kept = b"".join(p.read_bytes() for p in sorted(quarantine.folder.glob("*.set-aside")))
    assert kept == b"".join(bad)  # exactly the bad bytes, once, though the replay met them twice
    assert sorted(archived(folder, "unknown_error_in_record")) == sorted(inside_a_delivery(prog))
    entries = quarantine.entries()
    assert all(e["reason"] and isinstance(e["offset"], int) for e in entries)
    if kind == "no timestamps":
        assert len(entries) >= JUNK_BYTES // (2 * MAX_MESSAGE_BYTES) and max(int(e["bytes"]) for e in entries) <= 2 * MAX_MESSAGE_BYTES
    else:
        assert len(entries) == len(bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["icom", "links.jsonl"]  # nothing written outside the listener's folder
    assert all(len(part) <= 2 * 64 + 1 for p in folder.rglob("*") for part in p.relative_to(folder).parts)
    archived_bytes = sum(len(a) for a in archived(folder))
    idle = len(sim.sent_bytes(kind="idle"))
    assert archived_bytes + len(kept) + idle == len(sent)  # each byte is archived, set aside or idle
    FIGURES[kind] = {"sent": sum(c.bytes_sent for c in sim.connections), "journalled": len(second.journal()), "archived": archived_bytes,
                     "idle": idle, "set_aside_pieces": len(entries), "set_aside_bytes": len(kept)}
    print(f"\n{kind}: {FIGURES[kind]}")


def test_the_service_killed_after_a_bad_message_restarts_and_records_on(tmp_path: Path, cleanup: list) -> None:
    """`plancheck icom listen` as the service runs it: SIGKILL right after the damaged name length, restart, SIGTERM: exit 0, FIN."""
    prog = damaged(programme(beams=2), flipped_name_length, "first of delivery 0")
    bad_at = next(i for i, m in enumerate(prog) if m.kind == "bad")
    sim = start(Simulator(prog, rate_hz=RATE_HZ, pause_after=[bad_at + 3]), cleanup)
    stop_at_the_pause_and_restart(sim, tmp_path / "icom", cleanup, signal.SIGKILL)
    assert sim.connections[1].ended_by == "client_fin"
    assert archived(tmp_path / "icom") == per_delivery(sim)
    log = (tmp_path / "icom" / "logs" / "icom-SIM.log").read_text()
    assert "cannot write the journal" not in log
    assert re.search(r"\d+ bytes at connection 1 byte \d+ set aside: bytes that are no iCOM item \(at connection byte \d+\)", log)


# ---- the three defects of issue 11 item 1, at unit level ---------------------------


@pytest.fixture(scope="module")
def stream() -> bytes:
    return write_icom_stream(deliveries.from_dicom(VMAT, "1-1"), patient_id="015112", patient_name="DOE^JANE", machine="LINAC1", start=START, decimals=2)


def messages_of(data: bytes) -> list[bytes]:
    starts = message_starts(data)
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def test_two_item_headers_back_to_back_are_a_typed_error_with_the_offset(stream: bytes) -> None:
    message = empty_piece(messages_of(stream)[0])
    with pytest.raises(SourceError, match=r"byte \d+: message at byte 0: MLCX position 1 has no length or value \(two item headers back to back\)"):
        read_icom(message)


def test_a_flipped_name_length_is_set_aside_and_names_stay_bounded(stream: bytes, tmp_path: Path) -> None:
    msgs = messages_of(stream)
    counts = split_stream(b"".join([flipped_name_length(msgs[0]), *msgs[1:]]), tmp_path)
    assert counts["set_aside"] == 1 and counts["archived"] == 1
    [path] = (tmp_path / "patients").rglob("*.xz")
    assert path.parent.name == "015112_DOE_JANE" and lzma.decompress(path.read_bytes()) == b"".join(msgs[1:])


def test_a_long_name_gives_a_bounded_folder(stream: bytes, tmp_path: Path) -> None:
    counts = split_stream(b"".join(long_name(m, 4000) for m in messages_of(stream)), tmp_path)
    assert counts["archived"] == 1
    [path] = (tmp_path / "patients").rglob("*.xz")
    assert len(path.parent.name) <= 129 and path.parent.name.startswith("015112_DOE_JANE_DOE")


def test_a_stream_without_timestamps_keeps_the_buffer_bounded_and_scans_each_byte_once(stream: bytes) -> None:
    header = messages_of(stream)[0][: F.ITEMS_OFFSET]
    junk = messages_of(stream)[0][F.ITEMS_OFFSET :] * 16_000  # about 40 MiB
    framer = Framer(1)
    pieces = framer.feed(header)
    largest, scanned = 0, framer.base + framer.scan
    began = time.perf_counter()
    for at in range(0, len(junk), 1 << 16):
        pieces += framer.feed(junk[at : at + (1 << 16)])
        largest = max(largest, len(framer.buf))
        assert framer.base + framer.scan >= scanned  # the search never goes back over bytes it has scanned
        scanned = framer.base + framer.scan
    pieces += framer.finish()
    assert time.perf_counter() - began < 30  # linear: about a second; the re-scanning framer took hours
    assert largest <= MAX_MESSAGE_BYTES + (1 << 16)
    assert b"".join(p.data for p in pieces) == header + junk and all(p.problem for p in pieces)


def test_safe_name() -> None:
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("DOE, JANE") == "DOE_JANE" and safe_name("") == "unnamed" and safe_name("..") == "unnamed" and safe_name("", default="") == ""
    assert safe_name("CON") == "_CON" and safe_name("a\x00b\nc/d\\e:f") == "a_b_c_d_e_f"
    long_a, long_b = "A" * 300 + "1", "A" * 300 + "2"
    assert len(safe_name(long_a)) == 64 and safe_name(long_a) != safe_name(long_b) and safe_name(long_a) == safe_name(long_a)


def test_an_archive_that_cannot_be_written_is_not_a_journal_error(
    stream: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Archiver, "_write", staticmethod(full))
    commits: list[Position] = []
    splitter = Splitter(Archiver(tmp_path), commit=commits.append, idle_commit_s=0.0)
    framer = Framer(1)
    with caplog.at_level(logging.ERROR):
        splitter.take(framer.feed(stream))
        splitter.take(framer.finish())
        splitter.end()
    assert splitter.counts["archive_failed"] == 1 and not commits  # the journal keeps it uncommitted: a restart archives it
    assert "cannot write the archive" in caplog.text and "No space left" in caplog.text


def test_one_bad_archive_never_hides_the_good_ones(stream: bytes) -> None:
    xz = lzma.compress(stream, format=lzma.FORMAT_XZ)
    for bad in (xz[: len(xz) // 2], b"\xfd7zXZ\x00" + b"\x00" * 64, lzma.compress(stream[:5000], format=lzma.FORMAT_XZ), b"no stream", b""):
        beams, warnings = read_archive(bad, xz)
        assert "015112_FUZZ/20240501_100000" in beams, warnings  # the good archive
        assert any("20240501_090000.xz" in w for w in warnings), warnings  # the bad one, named


# ---- fuzzing: mutated real streams -----------------------------------------------------

POSITION = st.integers(0, 1 << 30)
MUTATION = st.one_of(
    st.tuples(st.just("flip"), POSITION, st.integers(0, 7)),
    st.tuples(st.just("set"), POSITION, st.integers(0, 255)),
    st.tuples(st.just("insert"), POSITION, st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("delete"), POSITION, st.integers(1, 64)),
    st.tuples(st.just("duplicate"), POSITION, st.integers(1, 600)),
    st.tuples(st.just("length"), POSITION, st.sampled_from([0, 1, 3, 4, 255, 256, 65535, 1 << 20, (1 << 32) - 1])),
    st.tuples(st.just("hollow"), POSITION, st.just(0)),
    st.tuples(st.just("truncate"), POSITION, st.just(0)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, object]], lengths: list[int]) -> bytes:
    """Apply mutations; ``length`` rewrites the length field of one real item (the offsets in ``lengths``), ``hollow`` drops
    that item's length and value (two item headers back to back)."""
    out = bytearray(data)
    for op, where, arg in mutations:
        at = where % max(1, len(out))
        if op == "flip" and out:
            out[at] ^= 1 << int(arg)  # type: ignore[call-overload]
        elif op == "set" and out:
            out[at] = int(arg)  # type: ignore[call-overload]
        elif op == "insert":
            out[at:at] = bytes(arg)  # type: ignore[call-overload]
        elif op == "delete":
            del out[at : at + int(arg)]  # type: ignore[call-overload]
        elif op == "duplicate":
            out[at:at] = out[at : at + int(arg)]  # type: ignore[call-overload]
        elif op == "length" and lengths:
            field_at = lengths[where % len(lengths)]
            if field_at + 4 <= len(out):
                out[field_at : field_at + 4] = int(arg).to_bytes(4, "little")  # type: ignore[call-overload]
        elif op == "hollow" and lengths:
            field_at = lengths[where % len(lengths)]
            del out[field_at : field_at + 4 + int.from_bytes(out[field_at : field_at + 4], "little")]
        elif op == "truncate":
            del out[at:]
    return bytes(out)


@functools.cache
def seed() -> tuple[bytes, bytes, list[int]]:
    """Four real messages (a few kB each), their xz archive, and the offsets of the first message's item length fields."""
    msgs = messages_of(write_icom_stream(deliveries.from_dicom(VMAT, "1-1"), patient_id="015112", patient_name="DOE^JANE", machine="LINAC1",
                                         start=START, decimals=2))[:4]
    data = b"".join(msgs)
    lengths = [item + 8 for item, *_ in iter_items(data, F.ITEMS_OFFSET, len(msgs[0]))]
    return data, lzma.compress(data, format=lzma.FORMAT_XZ), lengths


# a fixed budget and the same inputs on every run (derandomised, no example database)
FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MAX_SECONDS_PER_INPUT = 5.0


def bounded(call: Callable[[], object], size: int) -> None:
    """Run ``call``: only SourceError may escape; time and peak memory stay bounded."""
    tracemalloc.start()
    began = time.perf_counter()
    try:
        call()
    except SourceError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - began < MAX_SECONDS_PER_INPUT
    assert peak < (32 << 20) + 64 * size, f"{peak} bytes for a {size}-byte input"


@settings(FUZZ, max_examples=300)
@given(st.lists(MUTATION, min_size=1, max_size=6))
def test_fuzz_reader_raises_only_typed_errors(mutations: list[tuple[str, int, object]]) -> None:
    stream, _, lengths = seed()
    data = mutate(stream, mutations, lengths)
    bounded(lambda: read_stream(data), len(data))


@settings(FUZZ, max_examples=80)
@given(st.lists(MUTATION, min_size=1, max_size=6), st.sampled_from([1, 7, 512, 4096, 1 << 16]))
def test_fuzz_splitter_never_raises_and_cuts_every_byte(mutations: list[tuple[str, int, object]], chunk: int) -> None:
    stream, _, lengths = seed()
    data = mutate(stream, mutations, lengths)
    began = time.perf_counter()
    counts = split_stream(data, None, chunk)
    assert time.perf_counter() - began < MAX_SECONDS_PER_INPUT
    assert counts["piece_bytes"] == len(data) and counts["unexpected_errors"] == 0
    assert counts["max_buffer_bytes"] <= MAX_MESSAGE_BYTES + chunk


@settings(FUZZ, max_examples=60)
@given(st.lists(MUTATION, min_size=1, max_size=4), st.booleans())
def test_fuzz_archive_reading_names_the_bad_one_and_keeps_the_good(mutations: list[tuple[str, int, object]], container: bool) -> None:
    stream, xz, lengths = seed()
    bad = mutate(xz, mutations, []) if container else mutate(stream, mutations, lengths)
    found: list[tuple[list[str], list[str]]] = []
    bounded(lambda: found.append(read_archive(bad, xz)), len(bad))
    assert found, "read_archive raised"
    beams, warnings = found[0]
    assert "015112_FUZZ/20240501_100000" in beams, warnings  # the good archive is always read
