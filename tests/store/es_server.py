"""A small Elasticsearch stand-in speaking real HTTP on 127.0.0.1, for the backend's tests.

It answers the few REST endpoints the official client calls for us (index templates, index
creation, aliases, bulk, search, count, refresh, delete), records every request exactly as
the client library sent it, and can reject bulk requests or items with 429 as a busy cluster
does. It evaluates the query subset our bodies use (bool, match_phrase over whitespace
tokens, prefix, term(s), range, ids, match_all) so whole flows run against it, and refuses
anything else with 400 so a new kind of query cannot pass unnoticed.

What it does not emulate: relevance scores (every hit scores 1.0), analyzers other than
whitespace, shards, replicas and refresh timing. The contract suite against a real server
(``YUQING_ES_URL``) covers those.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo


class EsError(Exception):
    def __init__(self, status: int, kind: str, reason: str = ""):
        super().__init__(reason or kind)
        self.status, self.kind, self.reason = status, kind, reason or kind

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "reason": self.reason,
                          "root_cause": [{"type": self.kind, "reason": self.reason}]},
                "status": self.status}


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, a list for NDJSON, None when empty


@dataclass
class Index:
    aliases: set[str] = field(default_factory=set)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)


class FakeElasticsearch:
    def __init__(self, product_header: bool = True):
        self.product_header = product_header
        self.requests: list[Request] = []
        self.templates: dict[str, dict[str, Any]] = {}
        self.indices: dict[str, Index] = {}
        # per bulk request, in order: "reject" (429 for the whole request) or an int n
        # (the first n items rejected with 429); requests beyond the script are served
        self.bulk_script: deque[str | int] = deque()
        self.auto_created: list[str] = []  # indices a bulk write created (none of ours should)
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeElasticsearch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method: str | None = None, endswith: str = "") -> list[Request]:
        return [r for r in self.requests
                if (method is None or r.method == method) and r.path.endswith(endswith)]

    def docs(self, index: str) -> dict[str, dict[str, Any]]:
        return self.indices[index].docs

    # -- HTTP plumbing
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client's pool expects

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                ctype = self.headers.get("Content-Type", "")
                body: Any = None
                if raw and "ndjson" in ctype:
                    body = [json.loads(line) for line in raw.decode().splitlines() if line]
                elif raw:
                    body = json.loads(raw)
                req = Request(self.command, unquote(parts.path), params,
                              {k.lower(): v for k, v in self.headers.items()}, body)
                with fake.lock:
                    fake.requests.append(req)
                    try:
                        status, payload = fake.route(req)
                    except EsError as exc:
                        status, payload = exc.status, exc.body()
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if fake.product_header:
                    self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        return Handler

    # -- names
    def _aliased(self, alias: str) -> list[str]:
        return sorted(n for n, ix in self.indices.items() if alias in ix.aliases)

    def resolve(self, expr: str, params: dict[str, str]) -> list[str]:
        ignore = params.get("ignore_unavailable") == "true"
        out: list[str] = []
        for name in expr.split(","):
            if any(c in name for c in "*?"):
                out += sorted(n for n in self.indices if fnmatch.fnmatchcase(n, name))
            elif name in self.indices:
                out.append(name)
            elif self._aliased(name):
                out += self._aliased(name)
            elif not ignore:
                raise EsError(404, "index_not_found_exception", f"no such index [{name}]")
        if not out and params.get("allow_no_indices") == "false":
            raise EsError(404, "index_not_found_exception", expr)
        return list(dict.fromkeys(out))

    # -- routing
    def route(self, r: Request) -> tuple[int, Any]:
        segs = [s for s in r.path.split("/") if s]
        m = r.method
        if segs and segs[0] == "_index_template":
            return self._template(m, segs[1], r.body)
        if segs == ["_aliases"] and m == "POST":
            return self._update_aliases(r.body["actions"])
        if segs == ["_bulk"] and m in ("POST", "PUT"):
            return self._bulk(r)
        if len(segs) == 2 and segs[0] == "_alias" and m == "HEAD":
            return (200 if self._aliased(segs[1]) else 404), None
        if len(segs) == 1 and m == "HEAD":
            ok = segs[0] in self.indices or self._aliased(segs[0])
            return (200 if ok else 404), None
        if len(segs) == 1 and m == "PUT":
            return self._create(segs[0], r.body or {})
        if len(segs) == 1 and m == "DELETE":
            return self._delete_indices(segs[0], r.params)
        if len(segs) == 2 and segs[1] == "_alias" and m == "GET":
            return 200, {n: {"aliases": {a: {} for a in sorted(self.indices[n].aliases)}}
                         for n in self.resolve(segs[0], r.params)}
        if len(segs) == 3 and segs[1] == "_alias" and m in ("PUT", "POST"):
            for n in self.resolve(segs[0], r.params):
                self.indices[n].aliases.add(segs[2])
            return 200, {"acknowledged": True}
        if len(segs) == 2 and segs[1] == "_refresh":
            self.resolve(segs[0], r.params)
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if len(segs) == 2 and segs[1] == "_count":
            names = self.resolve(segs[0], r.params)
            query = (r.body or {}).get("query", {"match_all": {}})
            n = sum(1 for ix in names for i, d in self.indices[ix].docs.items()
                    if matches(query, i, d))
            return 200, {"count": n, "_shards": {"total": len(names), "successful": len(names),
                                                 "failed": 0}}
        if len(segs) == 2 and segs[1] == "_search":
            return 200, self._search(self.resolve(segs[0], r.params), r.body or {})
        raise EsError(400, "fake_unsupported", f"{m} {r.path}")

    def _template(self, m: str, name: str, body: Any) -> tuple[int, Any]:
        if m == "PUT":
            for other, t in self.templates.items():
                if other != name and t.get("priority", 0) == body.get("priority", 0) and \
                        set(t["index_patterns"]) & set(body["index_patterns"]):
                    raise EsError(400, "illegal_argument_exception", "overlapping patterns")
            self.templates[name] = body
            return 200, {"acknowledged": True}
        if name not in self.templates:
            raise EsError(404, "resource_not_found_exception", f"index template [{name}]")
        if m == "DELETE":
            del self.templates[name]
            return 200, {"acknowledged": True}
        return 200, {"index_templates": [{"name": name, "index_template": self.templates[name]}]}

    def _create(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        if name in self.indices:
            raise EsError(400, "resource_already_exists_exception", f"[{name}] already exists")
        if self._aliased(name):
            raise EsError(400, "invalid_index_name_exception", f"[{name}] is an alias")
        matching = [t for t in self.templates.values()
                    if any(fnmatch.fnmatchcase(name, p) for p in t["index_patterns"])]
        tpl = max(matching, key=lambda t: t.get("priority", 0))["template"] if matching else {}
        aliases = {*tpl.get("aliases", {}), *body.get("aliases", {})}
        for alias in aliases:
            if alias in self.indices:
                raise EsError(400, "invalid_alias_name_exception", f"[{alias}] is an index")
        self.indices[name] = Index(aliases=aliases,
                                   settings=tpl.get("settings", {}),
                                   mappings=tpl.get("mappings", {}))
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def _delete_indices(self, expr: str, params: dict[str, str]) -> tuple[int, Any]:
        if any(c in expr for c in "*?") or expr == "_all":  # action.destructive_requires_name
            raise EsError(400, "illegal_argument_exception",
                          "Wildcard expressions or all indices are not allowed")
        for n in self.resolve(expr, params):
            del self.indices[n]
        return 200, {"acknowledged": True}

    def _update_aliases(self, actions: list[dict[str, Any]]) -> tuple[int, Any]:
        removed = [a["remove_index"]["index"] for a in actions if "remove_index" in a]
        for name in removed:
            if name not in self.indices:
                raise EsError(404, "index_not_found_exception", name)
        for a in actions:
            if "add" in a:
                add = a["add"]
                if add["alias"] in self.indices and add["alias"] not in removed:
                    raise EsError(400, "invalid_alias_name_exception",
                                  f"an index exists with the same name as the alias [{add['alias']}]")
                for n in add.get("indices", [add.get("index")]):
                    if n not in self.indices:
                        raise EsError(404, "index_not_found_exception", n)
        for name in removed:  # one atomic step: validated above, applied together
            del self.indices[name]
        for a in actions:
            op, spec = next(iter(a.items()))
            for n in spec.get("indices", [spec.get("index")]):
                if op == "add":
                    self.indices[n].aliases.add(spec["alias"])
                elif op == "remove":
                    self.indices[n].aliases.discard(spec["alias"])
        return 200, {"acknowledged": True}

    def _bulk(self, r: Request) -> tuple[int, Any]:
        step = self.bulk_script.popleft() if self.bulk_script else 0
        if step == "reject":
            raise EsError(429, "es_rejected_execution_exception", "rejected execution of bulk")
        lines, items, i = r.body, [], 0
        rejected = int(step)
        while i < len(lines):
            (op, meta), = lines[i].items()
            source = lines[i + 1] if op in ("index", "create", "update") else None
            i += 2 if source is not None else 1
            base = {"_index": meta["_index"], "_id": meta["_id"]}
            if op == "index" and rejected > 0:
                rejected -= 1
                items.append({op: {**base, "status": 429, "error": {
                    "type": "es_rejected_execution_exception", "reason": "queue full"}}})
                continue
            if op == "index" and meta["_index"] not in self.indices:
                # action.auto_create_index (on by default): created as by PUT, template applied
                try:
                    self._create(meta["_index"], {})
                    self.auto_created.append(meta["_index"])
                except EsError as exc:
                    items.append({op: {**base, "status": exc.status, "error": exc.body()["error"]}})
                    continue
            ix = self.indices.get(meta["_index"])
            if ix is None:
                items.append({op: {**base, "status": 404, "error": {
                    "type": "index_not_found_exception", "reason": meta["_index"]}}})
            elif op == "index":
                unknown = set(source) - set(ix.mappings.get("properties", {}))
                if ix.mappings.get("dynamic") == "strict" and unknown:
                    items.append({op: {**base, "status": 400, "error": {
                        "type": "strict_dynamic_mapping_exception", "reason": str(unknown)}}})
                    continue
                created = meta["_id"] not in ix.docs
                ix.docs[meta["_id"]] = source
                items.append({op: {**base, "status": 201 if created else 200,
                                   "result": "created" if created else "updated"}})
            elif op == "delete":
                found = ix.docs.pop(meta["_id"], None) is not None
                items.append({op: {**base, "status": 200 if found else 404,
                                   "result": "deleted" if found else "not_found"}})
            else:
                raise EsError(400, "fake_unsupported", op)
        errors = any(not 200 <= next(iter(it.values()))["status"] < 300 for it in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _search(self, names: list[str], body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("query", {"match_all": {}})
        found = [(n, i, d) for n in names for i, d in self.indices[n].docs.items()
                 if matches(query, i, d)]
        sort = body.get("sort", ["_score"])
        keyed = sorted(((sort_values(sort, d), n, i, d) for n, i, d in found),
                       key=lambda t: order_key(sort, t[0]))
        if "search_after" in body:
            after = order_key(sort, body["search_after"])
            keyed = [t for t in keyed if order_key(sort, t[0]) > after]
        start = body.get("from", 0)
        page = keyed[start:start + body.get("size", 10)]
        wanted = body.get("_source", True)
        hits = []
        for values, n, i, d in page:
            hit: dict[str, Any] = {"_index": n, "_id": i, "_score": 1.0, "sort": values}
            if wanted is not False:
                hit["_source"] = d if wanted is True else {k: d[k] for k in wanted if k in d}
            hits.append(hit)
        out: dict[str, Any] = {"took": 1, "timed_out": False,
                               "_shards": {"total": len(names), "successful": len(names),
                                           "skipped": 0, "failed": 0},
                               "hits": {"max_score": 1.0, "hits": hits}}
        if body.get("track_total_hits", True) is not False:
            out["hits"]["total"] = {"value": len(found), "relation": "eq"}
        if "aggs" in body and names:
            out["aggregations"] = {k: aggregate(spec, [d for _, _, d in found])
                                   for k, spec in body["aggs"].items()}
        return out


# -- the query subset
def _values(doc: dict[str, Any], name: str) -> list[Any]:
    v = doc.get(name)
    return [] if v is None else v if isinstance(v, list) else [v]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def matches(q: dict[str, Any], doc_id: str, doc: dict[str, Any]) -> bool:
    (kind, spec), = q.items()
    if kind == "match_all":
        return True
    if kind == "ids":
        return doc_id in spec["values"]
    if kind == "bool":
        unknown = set(spec) - {"must", "filter", "should", "must_not", "minimum_should_match"}
        if unknown:
            raise EsError(400, "parsing_exception", str(unknown))
        if not all(matches(c, doc_id, doc) for c in spec.get("must", []) + spec.get("filter", [])):
            return False
        if any(matches(c, doc_id, doc) for c in spec.get("must_not", [])):
            return False
        should = spec.get("should", [])
        need = spec.get("minimum_should_match",
                        0 if spec.get("must") or spec.get("filter") else 1)
        return not should or sum(matches(c, doc_id, doc) for c in should) >= need
    (name, value), = spec.items()
    if kind == "match_phrase":
        tokens, want = str(doc.get(name) or "").split(), value.split()
        return any(tokens[i:i + len(want)] == want for i in range(len(tokens) - len(want) + 1))
    if kind == "prefix":
        return any(t.startswith(value) for t in str(doc.get(name) or "").split())
    if kind == "term":
        return value in _values(doc, name)
    if kind == "terms":
        return bool(set(value) & set(_values(doc, name)))
    if kind == "range":
        have = doc.get(name)
        if have is None:
            return False
        ops = {"gte": lambda a, b: a >= b, "gt": lambda a, b: a > b,
               "lte": lambda a, b: a <= b, "lt": lambda a, b: a < b}
        return all(ops[op](_at(have), _at(bound)) for op, bound in value.items())
    raise EsError(400, "parsing_exception", f"unknown query [{kind}]")


def sort_values(sort: list[Any], doc: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for s in sort:
        name = s if isinstance(s, str) else next(iter(s))
        if name == "_score":
            out.append(1.0)
        elif name == "at":
            out.append(int(_at(doc["at"]).timestamp() * 1000))  # dates sort as epoch millis
        else:
            out.append(doc.get(name))
    return out


def order_key(sort: list[Any], values: list[Any]) -> tuple[Any, ...]:
    key = []
    for s, v in zip(sort, values, strict=True):
        desc = s == "_score" or (isinstance(s, dict) and next(iter(s.values())) == "desc")
        key.append(-v if desc else v)
    return tuple(key)


def aggregate(spec: dict[str, Any], docs: list[dict[str, Any]]) -> dict[str, Any]:
    (kind, opts), = spec.items()
    if kind == "terms":
        counts = Counter(v for d in docs for v in set(_values(d, opts["field"])))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:opts.get("size", 10)]
        return {"buckets": [{"key": k, "doc_count": n} for k, n in ranked]}
    if kind == "date_histogram":
        assert opts["calendar_interval"] == "day" and opts["format"] == "yyyy-MM-dd"
        tz = ZoneInfo(opts.get("time_zone", "UTC"))
        days = Counter(_at(d[opts["field"]]).astimezone(tz).date().isoformat() for d in docs)
        return {"buckets": [{"key_as_string": day, "key": 0, "doc_count": n}
                            for day, n in sorted(days.items())]}
    raise EsError(400, "parsing_exception", f"unknown aggregation [{kind}]")
