"""The `kb` command: ingest, serve, search, tag, stats, reindex, keys, export, import, backup, schema. Heavy imports happen late."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _settings(args: argparse.Namespace):
    from kb.settings import Settings

    overrides = {"data_dir": args.data_dir} if getattr(args, "data_dir", None) else {}
    return Settings(**overrides)


def _kb(args: argparse.Namespace):
    from api.service import KnowledgeBase

    return KnowledgeBase(_settings(args))


class Progress:
    """Bars for records read and chunks embedded, shown only on a terminal."""

    def __init__(self, enabled: bool):
        self.bars: dict = {}
        self.enabled = enabled

    def __call__(self, what: str, n: int) -> None:
        if not self.enabled:
            return
        if what not in self.bars:
            from tqdm import tqdm

            self.bars[what] = tqdm(desc=what, unit="", position=len(self.bars), leave=False, file=sys.stderr)
        self.bars[what].update(n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def run_ingest(kb, paths: list[Path]) -> int:
    progress = Progress(sys.stderr.isatty())
    if progress.enabled:  # the model takes a few seconds to load: say so instead of seeming stuck
        print("loading the model and the index ...", file=sys.stderr)
        kb.open_index()
    try:
        report = kb.ingest(paths, progress)
    finally:
        progress.close()
    print_report(report)
    counts = report.counts()
    return 0 if not report.rejected or (counts["added"] + counts["updated"] + counts["unchanged"]) else 1


def print_report(report) -> None:
    """The counts line, then one line per rejected input naming file, record and reason."""
    counts = report.counts()
    print(f"added {counts['added']}, updated {counts['updated']}, unchanged {counts['unchanged']}, "
          f"rejected {counts['rejected']} ({counts['chunks']} chunks embedded)")
    for rejection in report.rejected:
        print(f"rejected: {rejection.line()}")


def cmd_ingest(args: argparse.Namespace) -> int:
    kb = _kb(args)
    return run_ingest(kb, [Path(p) for p in args.paths])


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = _settings(args)
    kb = _kb(args)
    if kb.store.stats()["records"] == 0 and settings.corpus_dir.is_dir() and not args.no_seed:
        print(f"empty store: ingesting {settings.corpus_dir} first", file=sys.stderr)
        run_ingest(kb, [settings.corpus_dir])
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"urbankb on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", file=sys.stderr)
    uvicorn.run(create_app(settings, kb), host=host, port=port, log_level="warning")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from kb.filters import Filters
    from kb.records import country_code, parse_sdg

    filters = Filters(
        kind=args.kind, sdgs=frozenset(parse_sdg(s) for s in args.sdg or []),
        gender=True if args.gender else (False if args.no_gender else None), language=args.lang,
        country=country_code(args.country) if args.country else None, city=args.city, region=args.region,
        topic=args.topic, year_from=args.year_from, year_to=args.year_to,
        curated_only=args.curated_only, threshold=_settings(args).suggestion_threshold,
    )
    kb = _kb(args)
    page = kb.search(" ".join(args.query), filters, args.limit, args.offset)
    if args.json:
        from api.schemas import SearchResponse

        print(SearchResponse.from_page(page, args.limit, args.offset).model_dump_json(indent=2))
        return 0
    print(f"{page.total} records match the filters; best {len(page.hits)}:")
    for n, hit in enumerate(page.hits, args.offset + 1):
        r = hit.record
        place = ", ".join(x for x in (r.city, r.country) if x)
        tags = [f"[{r.language}]"] + [f"SDG{s}" for s in r.sdgs] + (["gender"] if r.gender_perspective else [])
        where = ", ".join(x for x in (place, str(r.year or "")) if x)
        score = f"  score {hit.score:.3f}" if page.query else ""
        print(f"\n{n}. {r.title}" + (f"  ({where})" if where else "") + score)
        print(f"   {r.id}  {' '.join(tags)}")
        print(f"   {hit.snippet}" + (f"  (p. {hit.page})" if hit.page else ""))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    kb = _kb(args)
    stats = kb.store.stats()
    rejections = kb.store.rejections()
    if args.json:
        stats["rejected"] = [dict(r) for r in rejections]
        print(json.dumps(stats, indent=2, ensure_ascii=False))
        return 0
    for key, value in stats.items():
        print(f"{key:>20}: {value}")
    for row in rejections:
        print(f"  rejected file: {row['source']}: {row['reason']}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    kb = _kb(args)
    count = kb.reindex()
    print(f"index rebuilt: {count} chunks with {kb.embedder.model_id}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from api.auth import create_key

    kb = _kb(args)
    if args.action == "create":
        key_id, key = create_key(kb.store, args.name or "unnamed")
        print(f"key {key_id} created; it is shown only now:\n{key}")
    elif args.action == "revoke":
        kb.store.revoke_key(int(args.name))
        print(f"key {args.name} revoked")
    else:
        for row in kb.store.keys():
            print(f"{row['id']:>4}  {row['name']:<20} created {row['created_at']}  {'revoked ' + row['revoked_at'] if row['revoked_at'] else 'active'}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    kb = _kb(args)
    if args.file == "-":
        count = kb.export(sys.stdout)
    else:
        with open(args.file, "w", encoding="utf-8") as target:
            count = kb.export(target)
    print(f"exported {count} records", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    kb = _kb(args)
    report = kb.import_export(Path(args.file))
    print_report(report)
    return 0 if not report.rejected else 1


def cmd_backup(args: argparse.Namespace) -> int:
    kb = _kb(args)
    kb.backup(Path(args.target))
    print(f"backup written to {args.target} (open it with: kb --data-dir {args.target} serve)")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    """Suggestions for a file (PDF or text) or a text given on the command line; nothing is stored."""
    from api.tag_routes import tag_response

    kb = _kb(args)
    source = " ".join(args.source)
    path = Path(source)
    if source == "-":
        report, language = kb.tag_text(sys.stdin.read())
    elif len(args.source) == 1 and path.is_file():
        report, language = kb.tag_file(path)
    else:
        report, language = kb.tag_text(source)
    response = tag_response(report, language, kb.settings.suggestion_threshold)
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    print(f"language: {language or 'unknown'}   (suggested: score >= {response.threshold})")
    gender = response.gender_perspective
    items = [(f"SDG {s.sdg}", s.score, s.evidence) for s in response.sdgs]
    items.append(("gender perspective" + ("" if gender.value else " (no)"), gender.score, gender.evidence))
    for name, score, evidence in items:
        mark = "*" if score >= response.threshold else " "
        print(f"\n{mark} {name:<22} {score:.2f}")
        for e in evidence:
            print(f"    - {e.text}" + (f"  (p. {e.page})" if e.page else ""))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from kb.records import practice_json_schema

    print(json.dumps(practice_json_schema(), indent=2, ensure_ascii=False))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kb", description="urbankb: multilingual knowledge base of urban practices.")
    p.add_argument("--data-dir", help="folder of the store and index (default: $KB_DATA_DIR or ./kb-data)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("ingest", help="add or update records from files and folders (.json .jsonl .csv .pdf)")
    s.add_argument("paths", nargs="+")
    s.set_defaults(func=cmd_ingest)
    s = sub.add_parser("serve", help="serve the HTTP API (ingests the corpus first when the store is empty)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--no-seed", action="store_true", help="do not ingest the corpus into an empty store")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("search", help="search from the terminal")
    s.add_argument("query", nargs="*")
    s.add_argument("--kind", choices=["practice", "publication"])
    s.add_argument("--sdg", action="append", help="SDG 1-17 (repeat for any of several)")
    s.add_argument("--gender", action="store_true", help="only records with a gender perspective")
    s.add_argument("--no-gender", action="store_true", help="only records without a gender perspective")
    s.add_argument("--lang", help="ISO 639-1 language of the records")
    for name in ("country", "city", "region", "topic"):
        s.add_argument(f"--{name}")
    s.add_argument("--year-from", type=int)
    s.add_argument("--year-to", type=int)
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--curated-only", action="store_true", help="SDG and gender filters ignore the tagger's suggestions")
    s.add_argument("--json", action="store_true", help="print the same JSON as GET /search")
    s.set_defaults(func=cmd_search)
    s = sub.add_parser("tag", help="suggest SDGs and the gender perspective for a PDF, a text file or a text, with evidence")
    s.add_argument("source", nargs="+", help="a file (.pdf or UTF-8 text), a text, or - for standard input")
    s.add_argument("--json", action="store_true", help="print the same JSON as POST /tag")
    s.set_defaults(func=cmd_tag)
    s = sub.add_parser("stats", help="counts by kind, language, region, SDG; rejected files")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_stats)
    s = sub.add_parser("reindex", help="rebuild the vector index from the store")
    s.set_defaults(func=cmd_reindex)
    s = sub.add_parser("keys", help="API keys for write endpoints: create NAME | list | revoke ID")
    s.add_argument("action", choices=["create", "list", "revoke"])
    s.add_argument("name", nargs="?")
    s.set_defaults(func=cmd_keys)
    s = sub.add_parser("export", help="write all records (with timestamps and PDF pages) as JSON lines")
    s.add_argument("file", help="output file, or - for standard output")
    s.set_defaults(func=cmd_export)
    s = sub.add_parser("import", help="load a file written by `kb export`")
    s.add_argument("file")
    s.set_defaults(func=cmd_import)
    s = sub.add_parser("backup", help="consistent snapshot of the store and index into a folder (safe while serving)")
    s.add_argument("target")
    s.set_defaults(func=cmd_backup)
    s = sub.add_parser("schema", help="print the JSON Schema of a record")
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import logging

    from kb.errors import KbError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except KbError as exc:
        print(f"kb: {exc.message}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"kb: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
