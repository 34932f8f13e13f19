"""Plan and second-check PDFs read with declarative per-vendor templates.

Modules: ``template`` (the YAML template model and loader), ``extract`` (words
and lines from PDFium or pdfplumber), ``orientation`` (reading turned pages
upright), ``tables`` (column-wise table reading), ``parse`` (fields and tables
with a template), ``documents`` (finding the patient's PDFs),
``finders`` (the finders plancheck.toml configures), ``source`` (reading either kind),
``plan`` and ``second_check`` (the two sources). PDFs laid out like each vendor's
printout, for tests and the demo, are made by :mod:`plancheck.fabricate.pdf`.
"""
