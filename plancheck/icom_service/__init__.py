"""The iCOM listener service: it holds the linac's connection, journals every byte before it
parses (:mod:`journal`), splits the stream into deliveries (:mod:`splitter`), sets damaged
pieces aside (:mod:`quarantine`) and archives each delivery by patient (:mod:`archive`).
The ``icom`` source (:mod:`plancheck.sources.icom`) reads what it archived;
:mod:`fuzzing` drives the splitter and archiver with damaged streams.
"""
