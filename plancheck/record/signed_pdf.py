"""The signed chart-check record as a PDF for MOSAIQ's eSCAN: who signed, when, and what the signature
means; every finding with its disposition (who judged it, when, why); the manual checks with who ticked
them; the findings the run resolved. A4 portrait, a real text layer, every page naming the patient and run.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from plancheck.record.models import Disposition, User
from plancheck.record.review import FindingView, Review

FONT = "DejaVu"
HEAD = FontFace(emphasis="BOLD", fill_color=(232, 235, 239))
VERDICT_WORDS = {"acknowledged": "acknowledged", "accepted": "accepted (clinically fine)", "to_be_fixed": "to be fixed", "false_alarm": "false alarm"}


def _font_dir() -> Path:
    import matplotlib  # ships the DejaVu fonts: names in Latin, Greek and Cyrillic, and the degree sign

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def clean(text: object) -> str:
    """Text from data as data: control characters shown as spaces, never acted on."""
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in str(text))


def local(when: dt.datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M %Z") if when else ""


def who(user: User | None) -> str:
    if user is None:
        return ""
    return f"{user.display_name} ({user.username})" if user.display_name else user.username


class SignedRecordPDF(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        fonts = _font_dir()
        self.add_font(FONT, "", fonts / "DejaVuSans.ttf")
        self.add_font(FONT, "B", fonts / "DejaVuSans-Bold.ttf")
        self.title_text = title
        self.set_margins(14, 20, 14)
        self.set_auto_page_break(True, margin=16)
        self.alias_nb_pages()
        self.set_title(title)
        self.set_creator("plancheck")

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(clean(text))

    def header(self) -> None:
        self.set_font(FONT, "B", 9)
        self.cell(0, 6, self.title_text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7)
        self.cell(0, 5, f"{self.title_text} · page {self.page_no()} of {{nb}}", align="C")


def _heading(pdf: SignedRecordPDF, text: str) -> None:
    if pdf.will_page_break(16):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def _facts(pdf: SignedRecordPDF, facts: Sequence[tuple[str, str]]) -> None:
    for label, value in facts:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(38, 5, label)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: SignedRecordPDF, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
    if not rows:
        pdf.set_font(FONT, "", 9)
        pdf.cell(0, 5, "none", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font(FONT, "", 7.5)
    with pdf.table(col_widths=tuple(widths), width=pdf.epw, text_align="LEFT", line_height=3.6, headings_style=HEAD,
                   borders_layout="HORIZONTAL_LINES", padding=(0.8, 1.2), v_align="TOP") as table:
        for cells in [headings, *rows]:
            row = table.row()
            for text in cells:
                row.cell(text)


def _judgement(d: Disposition | None) -> str:
    if d is None:
        return ""
    assignee = f", by {d.assignee}" if d.assignee else ""
    return f"{VERDICT_WORDS.get(d.verdict, d.verdict)}{assignee}: {d.comment}\n{who(d.user)}, {local(d.created)}"


def _finding_row(v: FindingView) -> list[str]:
    r = v.result
    where = " ".join(x for x in (r.beam and f"beam {r.beam}", v.finding.item) if x)
    seen = "new since last signed check" if v.since_signed else "known"
    return [r.status, f"{r.check_id}\n{where}", r.message, seen, _judgement(v.disposition)]


def write_signed_pdf(review: Review, *, signer: User, signed_at: dt.datetime, meaning: str, path: Path) -> Path:
    """Write the signed record of ``review``'s run to ``path`` and return it."""
    run = review.run
    pdf = SignedRecordPDF(f"plancheck signed {run.check_kind} check · patient {run.patient_id} · run {run.id}")
    pdf.add_page()
    _heading(pdf, "Signature")
    facts = [("signed by", f"{who(signer)}, {signer.role}"), ("signed at", f"{local(signed_at)} ({signed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)"),
             ("meaning", meaning), ("patient", run.patient_id), ("prescription", run.prescription or "-"), ("check", run.check_kind),
             ("checked as of", local(run.as_of)), ("run", f"{run.id}, stored {local(run.created)} by {run.created_by or '-'}"),
             ("rule set", run.rule_set), ("plancheck", run.version), ("fingerprint", run.fingerprint)]
    if run.amends_id is not None:
        facts.append(("amends", f"signed run {run.amends_id}"))
    if review.last_signed is not None:
        facts.append(("new since", f"signed run {review.last_signed.id} ({local(review.last_signed.as_of)})"))
    _facts(pdf, facts)
    counts = ", ".join(f"{n} {status}" for status, n in run.counts.items() if n)
    _facts(pdf, [("results", counts or "none")])
    widths = (12, 38, 70, 22, 50)
    _heading(pdf, f"Findings new since the last signed check ({len(review.new)})")
    _table(pdf, ("status", "check", "found", "seen", "disposition"), [_finding_row(v) for v in review.new], widths)
    _heading(pdf, f"Known findings, judged before ({len(review.known)})")
    _table(pdf, ("status", "check", "found", "seen", "disposition"), [_finding_row(v) for v in review.known], widths)
    _heading(pdf, "Manual checks")
    _table(pdf, ("check", "item", "ticked by", "when"),
           [[m.result.check_id, m.result.name, who(m.tick.user) if m.ticked and m.tick else "NOT TICKED", local(m.tick.created) if m.tick else ""]
            for m in review.manual], (40, 82, 40, 30))
    _heading(pdf, f"Resolved by this run ({len(review.resolved)})")
    _table(pdf, ("check", "beam", "item", "last found"), [[f.check_id, f.beam, f.item, f.message] for f in review.resolved], (40, 20, 30, 102))
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path
