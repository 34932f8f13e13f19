"""The record cannot be edited behind plancheck's back: the database itself refuses UPDATE and DELETE
on the audit log and on signatures, and any change to a signed run, its results or its manual ticks
(21 CFR 11.10(e): an audit trail that cannot be altered; a signed record is amended, never edited).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit log is append-only"
SIGNATURE = "a signature cannot be changed or removed"
SIGNED = "a signed run cannot be changed; record an amendment instead"

_RUN_OF = {"results": "run_id", "manual_ticks": "run_id"}


def _sqlite() -> list[str]:
    def refuse(name: str, when: str, table: str, condition: str, message: str) -> str:
        where = f" WHEN {condition}" if condition else ""
        return f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW{where} BEGIN SELECT RAISE(ABORT, '{message}'); END"

    out = [refuse(f"audit_log_no_{w.lower()}", w, "audit_log", "", APPEND_ONLY) for w in ("UPDATE", "DELETE")]
    out += [refuse(f"signatures_no_{w.lower()}", w, "signatures", "", SIGNATURE) for w in ("UPDATE", "DELETE")]
    out += [refuse(f"check_runs_signed_no_{w.lower()}", w, "check_runs", "OLD.state = 'signed'", SIGNED) for w in ("UPDATE", "DELETE")]
    for table, column in _RUN_OF.items():
        for w, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
            condition = f"(SELECT state FROM check_runs WHERE id = {row}.{column}) = 'signed'"
            out.append(refuse(f"{table}_signed_no_{w.lower()}", w, table, condition, SIGNED))
    return out


def _postgresql() -> list[str]:
    out = [
        "CREATE FUNCTION plancheck_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$",
        "CREATE FUNCTION plancheck_refuse_if_signed() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE rid integer; BEGIN "
        "IF TG_OP = 'INSERT' THEN rid := NEW.run_id; ELSE rid := OLD.run_id; END IF; "
        "IF (SELECT state FROM check_runs WHERE id = rid) = 'signed' THEN RAISE EXCEPTION '%', TG_ARGV[0]; END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$",
        f"CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION plancheck_refuse('{APPEND_ONLY}')",
        f"CREATE TRIGGER signatures_frozen BEFORE UPDATE OR DELETE ON signatures FOR EACH ROW EXECUTE FUNCTION plancheck_refuse('{SIGNATURE}')",
        f"CREATE TRIGGER check_runs_signed_frozen BEFORE UPDATE OR DELETE ON check_runs FOR EACH ROW WHEN (OLD.state = 'signed') "
        f"EXECUTE FUNCTION plancheck_refuse('{SIGNED}')",
    ]
    out += [f"CREATE TRIGGER {t}_signed_frozen BEFORE INSERT OR UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION plancheck_refuse_if_signed('{SIGNED}')" for t in _RUN_OF]
    return out


def _drop() -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return [f"DROP TRIGGER {name} ON {table}" for name, table in (
            ("audit_log_append_only", "audit_log"), ("signatures_frozen", "signatures"), ("check_runs_signed_frozen", "check_runs"),
            *((f"{t}_signed_frozen", t) for t in _RUN_OF))] + ["DROP FUNCTION plancheck_refuse_if_signed()", "DROP FUNCTION plancheck_refuse()"]
    return [f"DROP TRIGGER {sql.split()[2]}" for sql in _sqlite()]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for sql in _postgresql() if dialect == "postgresql" else _sqlite() if dialect == "sqlite" else []:
        op.execute(sql)


def downgrade() -> None:
    for sql in _drop():
        op.execute(sql)
