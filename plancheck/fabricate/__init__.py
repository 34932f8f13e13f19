"""Files made for tests and the demo clinic, following the real formats (evidence in ``docs/``).

Sources only read; what writes lives here: Elekta TRF logs (:mod:`trf`), Monaco tel.1 files
and FocalData trees (:mod:`tel`, :mod:`focaldata`), iCOM streams (:mod:`icom`), a loopback
linac that sends them (:mod:`linac`, and :mod:`recording`: the linac through the real
listener in one call), and plan and second-check PDFs laid out like each vendor's printout
(:mod:`pdf`, :mod:`pdf_layouts`, :mod:`pdf_printing`).
"""
