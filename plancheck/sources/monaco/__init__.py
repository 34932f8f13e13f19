"""Monaco source: tel.1 files in a Monaco FocalData tree (:mod:`telfile` reads one, :mod:`reader` is the source)."""
