"""``fastimport close``, ``closings``, ``key rotate``, ``archive keygen|export|verify``: the fiscal commands.

Exit codes: 0 done (or the archive is whole), 1 refused or a problem found (one plain line on stderr,
or the first bad file or record named), 2 a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, Session, output, usage


def add_fiscal_commands(sub: Any) -> None:
    close = sub.add_parser("close", help="close a day, month or year (Z): frozen totals and the grand total")
    close.add_argument(
        "period", choices=("day", "month", "year"), help="the period to close: day, month or year"
    )
    close.add_argument(
        "--date", help="a date in the period (YYYY-MM-DD; default today, or the last month/year)"
    )
    close.add_argument("--store", help="only this store (default: every store)")
    close.add_argument("--print", action="store_true", help="print each closing's Z ticket")
    close.add_argument("--printer", help="the printer to use (default: the first configured)")
    close.add_argument("--json", action="store_true")
    close.set_defaults(handler=cmd_close)

    listing = sub.add_parser("closings", help="list the closings made")
    listing.add_argument("--store")
    listing.add_argument("--kind", choices=("day", "month", "year"), help="only closings of this kind")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_closings)

    key = sub.add_parser("key", help="the signing key")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    rotate = key_sub.add_parser("rotate", help="hand the chains over to a new signing key (journaled)")
    rotate.add_argument(
        "--new-key-env", required=True, metavar="VAR", help="environment variable with the new key"
    )
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=cmd_key_rotate)

    archive = sub.add_parser("archive", help="signed fiscal archives, verifiable offline")
    a_sub = archive.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    keygen = a_sub.add_parser(
        "keygen", help="write an Ed25519 pair: DIR/archive.key (0600) and DIR/archive.pub"
    )
    keygen.add_argument("directory", help="where to write archive.key (mode 0600) and archive.pub")
    keygen.set_defaults(handler=cmd_archive_keygen)
    export = a_sub.add_parser("export", help="write the signed archive of a period")
    export.add_argument("--from", dest="first", required=True, help="first date (YYYY-MM-DD)")
    export.add_argument("--to", dest="last", required=True, help="last date (YYYY-MM-DD, included)")
    export.add_argument("--store")
    export.add_argument("--out", required=True, help="the zip file to write")
    export.add_argument("--json", action="store_true")
    export.set_defaults(handler=cmd_archive_export)
    check = a_sub.add_parser("verify", help="check an archive with its public key only (no database, no key)")
    check.add_argument("archive", help="the archive zip to check")
    check.add_argument("--public-key", required=True, help="the archive.pub of the till that signed it")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=cmd_archive_verify)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise usage(f"{option} {text!r}: give a date as YYYY-MM-DD") from None


def cmd_close(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.fiscal import close_period
    from fastimport.api.processing import PrintRequest

    printing = PrintRequest(printer=args.printer) if args.print or args.printer else None
    report = close_period(
        session.config,
        session.con,
        args.period,
        _date(args.date, "--date"),
        store=args.store,
        printing=printing,
    )
    made = report.closings

    def text() -> None:
        for c in made:
            j = c.to_json()
            auto = " (automatic)" if c.automatic else ""
            print(f"{j['number']}: {j['period_kind']} {j['period']} of {j['store']}{auto}")
            print(f"  {j['invoices']} invoices, {j['credit_notes']} credit notes, total TTC {j['total_ttc']}")
            for v in j["vat"]:
                print(f"  VAT {v['rate']:>4} %: HT {v['ht']:>10}  TVA {v['tva']:>10}  TTC {v['ttc']:>10}")
            for p in j["payments"]:
                print(f"  {p['method']:<20} {p['count']:>4}  {p['ttc']:>10}")
            print(f"  grand total {j['grand_total']} (absolute {j['grand_total_abs']})")
        if report.printed is not None and not report.printed.ok:
            print(f"Z tickets still queued: {'; '.join(report.printed.reasons())} (fastimport print retry)")

    output(args, report.to_json(), text)
    return EXIT_OK if report.printed is None or report.printed.ok else EXIT_FAILURE


def cmd_closings(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.fiscal import list_closings

    found = list_closings(session.con, store=args.store, kind=args.kind)

    def text() -> None:
        for c in found:
            j = c.to_json()
            print(f"{j['number']:<22} {j['period_kind']:<5} {j['period']:<10} {j['store']:<12} "
                  f"TTC {j['total_ttc']:>12}  GT {j['grand_total']:>12}")  # fmt: skip

    output(args, [c.to_json() for c in found], text)
    return EXIT_OK


def cmd_key_rotate(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.fiscal import rotate_key

    result = rotate_key(session.config, session.con, args.new_key_env)
    output(
        args,
        result.to_json(),
        lambda: print(
            f"key rotated: {result.sealed} records sealed with the new key (journal #{result.journal_seq}); "
            f"put the key of {args.new_key_env} in the variable named by [invoicing].secret_env from now on"
        ),
    )
    return EXIT_OK


def cmd_archive_keygen(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.fiscal import archive_keygen

    private, public = archive_keygen(args.directory)
    print(f"wrote {private} (keep it secret: mode 0600) and {public} (give it to whoever verifies archives)")
    print(f'add to fastimport.toml:\n[archive]\nprivate_key_file = "{private}"')
    return EXIT_OK


def cmd_archive_export(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.fiscal import archive_export

    first, last = _date(args.first, "--from"), _date(args.last, "--to")
    assert first is not None and last is not None
    report = archive_export(session.config, session.con, first, last, args.out, store=args.store)
    output(
        args,
        report.to_json(),
        lambda: print(
            f"archive {report.path}: "
            + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.counts.items())
            + f"; SHA-256 {report.sha256}"
        ),
    )
    return EXIT_OK


def cmd_archive_verify(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.fiscal import archive_verify

    check = archive_verify(args.archive, args.public_key)

    def text() -> None:
        if check.ok:
            print(f"the archive is whole: {'; '.join(check.checked)}")
        else:
            print(f"archive check FAILED at {check.where}: {check.message}")

    output(args, check.to_json(), text)
    return EXIT_OK if check.ok else EXIT_FAILURE
