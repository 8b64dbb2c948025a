"""Many PDFs at once: the stored documents read in the caller's process, rendered on every core.

WeasyPrint is single-threaded and CPU-bound, so a batch (``invoice … --pdf DIR``) is spread over
a process pool of ``os.cpu_count()`` workers; each worker receives plain, picklable records (the
store is never opened there) and keeps its fonts, style sheet and template between documents.
Workers are forked from a *forkserver* that imported and warmed WeasyPrint once: never from the
caller itself, whose DuckDB and event-loop threads must not be forked mid-flight.  The PDFs come
back in the order of the documents, as :func:`.pdf.render` makes them one at a time.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fastimport.documents import pdf
from fastimport.documents.records import StoredDocument
from fastimport.documents.settings import DocumentsSettings

# Below this many documents a pool's start-up (about a second) costs more than it saves.
MIN_POOL_BATCH = 6


def workers_for(count: int, workers: int | None = None) -> int:
    return max(1, min(workers or os.cpu_count() or 1, count))


def render_many(
    docs: Sequence[StoredDocument],
    settings: DocumentsSettings,
    logo: Path | None = None,
    *,
    workers: int | None = None,
) -> Iterator[pdf.Rendered]:
    """Render ``docs`` in order; on several cores when the batch is worth a pool."""
    n = workers_for(len(docs), workers)
    if n == 1 or len(docs) < MIN_POOL_BATCH:
        for doc in docs:
            yield pdf.render(doc, settings, logo)
        return
    context = multiprocessing.get_context("forkserver")
    # The server imports (and warms, see _warmed) WeasyPrint once; each worker forks from it.
    context.set_forkserver_preload(["fastimport.documents._warmed"])
    one = functools.partial(pdf.render, settings=settings, logo=logo)
    chunk = max(1, min(8, len(docs) // (4 * n)))  # a few chunks per worker: balanced, little IPC
    with ProcessPoolExecutor(n, mp_context=context, initializer=pdf.warm) as pool:
        yield from pool.map(one, docs, chunksize=chunk)
