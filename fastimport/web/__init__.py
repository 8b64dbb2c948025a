"""The till page: aiohttp routes, templates, message catalogs, server-sent progress, webhooks' HTTP side.

It calls the library API (:mod:`fastimport`) only; database work runs on :class:`Database`'s one
thread so the event loop never waits on DuckDB.
"""
