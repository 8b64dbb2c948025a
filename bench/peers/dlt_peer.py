"""dlt, the data load tool: its REST client following the Link header, merged into DuckDB on the order id.

dlt unnests ``line_items`` (and the other lists of an order) into child tables by
itself.  ``options["format"]`` picks the loader: dlt's default for DuckDB
(``insert_values``) or ``parquet``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from bench.job import Job
from bench.shop import KEY, SECRET


def run(job: Job) -> dict[str, Any]:
    # No telemetry, and every file dlt writes stays in the peer's work directory.
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    os.environ["DLT_DATA_DIR"] = os.path.join(job.workdir, "dlt-data")
    os.chdir(job.workdir)
    import dlt
    from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
    from dlt.sources.helpers.rest_client.client import RESTClient
    from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

    file_format = str(job.options.get("format", "default"))
    first_page = dict(job.listing_params(1))
    del first_page["page"]

    @dlt.resource(name="orders", write_disposition="merge", primary_key="id")
    def orders() -> Iterator[list[dict[str, Any]]]:
        client = RESTClient(
            base_url=job.api, auth=HttpBasicAuth(KEY, SECRET), paginator=HeaderLinkPaginator()
        )
        yield from client.paginate("/orders", params=first_page)

    t0 = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{file_format}",
        destination=dlt.destinations.duckdb(job.db),
        dataset_name="shop",
        pipelines_dir=os.path.join(job.workdir, "dlt-pipelines"),
    )
    run_options: dict[str, Any] = {} if file_format == "default" else {"loader_file_format": file_format}
    info = pipeline.run(orders(), **run_options)
    seconds = time.perf_counter() - t0
    steps = {}
    trace = pipeline.last_trace
    for step in trace.steps if trace else []:
        if step.finished_at and step.started_at:
            steps[step.step] = round((step.finished_at - step.started_at).total_seconds(), 3)
    with pipeline.sql_client() as client:

        def sql(query: str) -> list[Any]:
            return [row[0] for row in client.execute_sql(query) or []]

        n_orders = sql("SELECT count(*) FROM orders")[0]
        n_lines = sql("SELECT count(*) FROM orders__line_items")[0]
        tables = sql("SELECT table_name FROM information_schema.tables")
    del info
    return {
        "orders": int(n_orders),
        "lines": int(n_lines),
        "seconds": round(seconds, 3),
        "stages": steps,
        "loader_file_format": file_format,
        "tables": len([t for t in tables if not t.startswith("_dlt")]),
    }
