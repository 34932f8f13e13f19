"""Read-only by construction: a statement reaches MOSAIQ only if it is one plain read.

plancheck's statements are SQLAlchemy Core selects; this guard is the second wall. It
lexes the statement (string literals and quoted names set aside), and refuses
comments, a ``;`` (several statements), anything that does not begin with SELECT or
WITH, and any word that writes, executes or locks (INSERT ... INTO, EXEC, MERGE, ...).
The only other statements let through are SQLite's schema-reading PRAGMAs, which
SQLAlchemy's inspector sends to learn the columns of a table.

``redact_url`` removes passwords from anything that looks like a URL, however malformed.
"""

from __future__ import annotations

import re

# Words that write, run code, change the session or take locks: never in a read.
FORBIDDEN = frozenset(
    """
    INSERT UPDATE DELETE MERGE UPSERT REPLACE DROP ALTER CREATE TRUNCATE RENAME INTO EXEC EXECUTE CALL GRANT REVOKE DENY
    BACKUP RESTORE DBCC SHUTDOWN KILL RECONFIGURE DECLARE SET USE WAITFOR BULK OPENROWSET OPENQUERY OPENDATASOURCE
    OPENXML ATTACH DETACH VACUUM REINDEX ANALYZE PRAGMA LOAD_EXTENSION UPDLOCK XLOCK TABLOCKX HOLDLOCK COMMIT ROLLBACK
    SAVEPOINT BEGIN TRANSACTION
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_READ_PRAGMA = re.compile(
    r"PRAGMA\s+(?:\w+\s*\.\s*)?(?:TABLE_X?INFO|INDEX_LIST|INDEX_X?INFO|FOREIGN_KEY_LIST)\s*\(\s*\x00\s*\)", re.IGNORECASE
)
_QUOTES = {"'": "'", '"': '"', "[": "]", "`": "`"}


class UnsafeStatement(ValueError):
    """The statement is not one plain read; the message says why."""


def _mask(sql: str) -> str:
    """The statement with every literal and quoted name replaced by NUL; comments refused."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith(("--", "/*"), i) or ch == "#":
            raise UnsafeStatement("a comment: plancheck's statements have none")
        if ch in _QUOTES:
            close = _QUOTES[ch]
            j = i + 1
            while True:
                j = sql.find(close, j)
                if j < 0:
                    raise UnsafeStatement(f"an unterminated {ch}...{close}")
                if sql.startswith(close * 2, j):  # '' or "" or ]] stands for the character itself
                    j += 2
                    continue
                break
            out.append("\x00")
            i = j + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def check_read_only(statement: str) -> None:
    """Raise UnsafeStatement unless ``statement`` is a single read."""
    masked = _mask(statement).strip()
    if not masked:
        raise UnsafeStatement("an empty statement")
    if ";" in masked:
        raise UnsafeStatement("more than one statement (a ';')")
    if _READ_PRAGMA.fullmatch(masked):
        return
    words = [w.upper() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_$@#]*", masked)]
    if not words or words[0] not in ("SELECT", "WITH"):
        raise UnsafeStatement(f"{words[0] if words else 'a statement'} instead of SELECT")
    bad = sorted({w for w in words if w in FORBIDDEN or w.startswith(("SP_", "XP_"))})
    if bad:
        raise UnsafeStatement(f"{', '.join(bad)} inside the statement")


# a scheme-ish prefix (or a word boundary), then user:password@ -- tolerant of a missing ':' or '//'.
# A password never starts with '//' and an empty user name needs one that does not start with '/', so "scheme://user@host" is left alone.
_CREDENTIALS = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*:?/{0,3}|^|(?<=[\s\"'(=]))(?:(?P<user>[^\s:/@\"']+):(?!//)[^\s]*|:(?!/)[^\s]*)@"
)
_PASSWORD_PARAM = re.compile(r"(?i)\b(password|pwd|passwd)=([^&;\s]*)")


def redact_url(text: str) -> str:
    """``text`` with any password in a URL-like string (``scheme://user:PW@host``, ``scheme//u:PW@h``,
    ``u:PW@host``, ``?password=PW``) replaced by ``***``."""
    text = _CREDENTIALS.sub(lambda m: f"{m['head']}{m['user'] or ''}:***@", str(text))
    return _PASSWORD_PARAM.sub(lambda m: f"{m[1]}=***", text)
