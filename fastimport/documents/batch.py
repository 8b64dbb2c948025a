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

# Below this many documents the pool's start-up costs more than it saves: the first pool of a
# process starts the forkserver (a fresh interpreter importing WeasyPrint: 1 to 3 s), later ones
# only fork workers from it (a few hundredths of a second); one PDF costs about 0.1 s of CPU.
MIN_POOL_BATCH = 20


def workers_for(count: int, workers: int | None = None) -> int:
    return max(1, min(workers or os.cpu_count() or 1, count))


def render_many(
    docs: Sequence[StoredDocument],
    settings: DocumentsSettings,
    logo: Path | None = None,
    *,
    workers: int | None = None,
    min_batch: int | None = None,
) -> Iterator[pdf.Rendered]:
    """Render ``docs`` in order; on ``workers`` processes (default: every core) from ``min_batch``
    documents on (default ``MIN_POOL_BATCH``)."""
    n = workers_for(len(docs), workers)
    if n == 1 or len(docs) < (MIN_POOL_BATCH if min_batch is None else min_batch):
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
