"""Plan and second-check PDFs read with declarative per-vendor templates.

Modules: ``template`` (the YAML template model and loader), ``extract`` (words
and lines from pdfplumber), ``tables`` (column-wise table reading), ``parse``
(fields and tables with a template), ``documents`` (finding the patient's PDFs),
``source`` (the ``plan_pdf`` and ``second_check`` sources), ``writer`` (test and
demo PDFs laid out like each vendor's printout).
"""
