"""The library API: what the command line, the till page and scripts call.

Everything here is re-exported by :mod:`fastimport` (``fastimport.import_stores``...): callers
never reach into the rooms below (io, core, store, processing, print).  Each function takes the
loaded :class:`~fastimport.config.Config` and an open store connection (:func:`connect`), does its
work in its own transaction(s), and returns plain frozen reports with a ``to_json()``.
"""
