"""Elekta iCOM Vx, the reader side: the stream format (:mod:`fields`), :mod:`reader`,
:mod:`deliveries` (where a delivered beam ends) and :mod:`source` (the ``icom`` source of the
collected table). The listener service is :mod:`plancheck.icom_service`; writers and the linac
simulator are in :mod:`plancheck.fabricate`.
"""
