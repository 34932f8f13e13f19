"""The document finders plancheck.toml configures: MOSAIQ's documents and the plain PDF folder.

Apart from :mod:`plancheck.sources.pdfplan.documents` because it reads MOSAIQ, whose
document records are built on that module's types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plancheck.sources.pdfplan.documents import DocumentFinder, FolderFinder, document_types, records_finder

if TYPE_CHECKING:
    from plancheck.config import Config
    from plancheck.sources.pdfplan.template import TemplateSet


def default_finders(config: Config, templates: TemplateSet) -> list[DocumentFinder]:
    """The finders plancheck.toml configures: MOSAIQ's documents (with ``[folders] documents``,
    where MOSAIQ keeps its eSCAN files) and the plain PDF folder."""
    finders: list[DocumentFinder] = []
    if config.mosaiq_url and config.documents_dir is not None:
        from plancheck.sources.mosaiq.connect import open_mosaiq  # SQLAlchemy only when MOSAIQ is configured
        from plancheck.sources.mosaiq.documents import document_records

        db, folder = open_mosaiq(config.mosaiq_url, config.mosaiq_timeout_s), config.documents_dir
        finders.append(records_finder(lambda patient_id: document_records(db, patient_id, folder), document_types(config)))
    if config.pdf_dir is not None:
        finders.append(FolderFinder(config.pdf_dir, templates))
    return finders
