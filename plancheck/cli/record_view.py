"""The record on the terminal: a run under review (new findings first, known ones folded) and a patient's history.
Data is shown as data: every value from the record goes through rich's Text, never markup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from plancheck.record.models import Disposition, Run
    from plancheck.record.review import FindingView, Review

STYLE = {"fail": "bold red", "error": "bold magenta", "warn": "yellow"}


def local(t: Any) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M") if t else ""


def judged(d: Disposition | None) -> str:
    if d is None:
        return ""
    to = f" ({d.assignee})" if d.assignee else ""
    return f"{d.verdict}{to} by {d.user.username} {local(d.created)}: {d.comment}"


def run_line(run: Run) -> Text:
    sig = run.signature
    state = f"signed by {sig.user.username} {local(sig.signed_at)}: {sig.meaning}" if sig else "open"
    amends = f" · amends run {run.amends_id}" if run.amends_id else ""
    return Text(f"run {run.id} · {run.patient_id} {run.prescription} · {run.check_kind} check as of {local(run.as_of)} · {state}{amends}", style="bold")


def _findings_table(views: list[FindingView]) -> Table:
    table = Table("finding", "status", "check", "beam", "found", "change", "judgement", box=None, show_edge=False, pad_edge=False)
    for v in views:
        r = v.result
        note = judged(v.disposition) or (f"before: {judged(v.earlier)}" if v.earlier else "")
        table.add_row(Text(str(v.finding.id)), Text(r.status, style=STYLE.get(r.status, "")), Text(r.check_id), Text(r.beam), Text(r.message),
                      Text(v.change), Text(note))
    return table


def render_review(review: Review, screen: Console) -> None:
    run = review.run
    screen.print(run_line(run))
    since = f"signed run {review.last_signed.id} ({local(review.last_signed.as_of)})" if review.last_signed else "no earlier signed check"
    screen.print(Text(f"new since {since}: {len(review.new)}", style="bold"))
    if review.new:
        screen.print(_findings_table(review.new))
    screen.print(Text(f"known, judged before (folded): {len(review.known)}", style="bold"))
    for v in review.known:
        screen.print(Text(f"  {v.finding.id:>4} {v.result.status:<5} {v.result.check_id}{' ' + v.result.beam if v.result.beam else ''} — {judged(v.disposition)}"))
    if review.resolved:
        screen.print(Text(f"resolved by this run: {len(review.resolved)}", style="bold"))
        for f in review.resolved:
            screen.print(Text(f"  {f.id:>4} {f.check_id}{' ' + f.beam if f.beam else ''}"))
    screen.print(Text("manual checks", style="bold"))
    for m in review.manual:
        by = f" — {m.tick.user.username} {local(m.tick.created)}" if m.ticked and m.tick else ""
        screen.print(Text(f"  [{'x' if m.ticked else ' '}] {m.result.check_id}: {m.result.name}{by}"))
    if run.state == "signed":
        return
    blockers = review.blockers()
    if blockers:
        screen.print(Text("before signing:", style="bold"))
        for b in blockers:
            screen.print(Text(f"  - {b}"))
        screen.print(Text(f"next: plancheck dispose FINDING --as VERDICT --comment '...'; plancheck tick {run.id} CHECK; "
                          f"plancheck sign {run.id} --meaning '...'"))
    else:
        screen.print(Text(f"ready to sign: plancheck sign {run.id} --meaning 'weekly chart check reviewed'"))


def history_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("run", "as of", "kind", "prescription", "result", "findings", "state", box=None, show_edge=False, pad_edge=False)
    for r in rows:
        counts = r["counts"]
        result = "passed" if r["passed"] else f"{counts.get('fail', 0)} fail, {counts.get('error', 0)} error"
        result += f", {counts.get('warn', 0)} warn" if counts.get("warn") else ""
        findings = ", ".join(f"{n} {change}" for change, n in sorted(r["findings"].items()))
        sig = r["signature"]
        state = f"signed by {sig['by']} {sig['at'][:16].replace('T', ' ')}" if sig else r["state"]
        state += f" (amends {r['amends']})" if r["amends"] else ""
        table.add_row(*(Text(str(x)) for x in (r["id"], (r["as_of"] or "")[:10], r["check_kind"], r["prescription"], result, findings, state)))
    return table
