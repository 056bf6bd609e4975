#!/usr/bin/env python3
"""The shape of permitd's inside, checked over the source (`make lint`, `make test`).

Each context under api/src is a folder with the same rooms: http.rs (poem-openapi handlers),
service.rs (use cases), model.rs (plain types and rules), store.rs or store/ (storage).
Dependencies point one way, http -> service -> model, store:
- only http modules (http.rs, or a file under an http/ folder, and identity's session
  extractor auth.rs) name poem, poem_openapi, ApiError, AppState or an http module; model,
  store, service and every other module of a context (calendar.rs, documents.rs, ...) stay
  below http;
- only service and store modules call storage: a handler reaches the database through its
  context's service (`state.storage.x(..)` outside a service is refused);
- every context has the three rooms http, service and model;
- model modules do no I/O: no sqlx, no tokio, no object store;
- a context reaches another only through its service or model, never its store; only an http
  module may name another context's http module (an API object it shows, such as a service
  point in a booking answer);
- no source file is longer than 600 lines, tests aside.

The composition roots are exempt from the last rule, since assembling the contexts is their
job: platform/app.rs mounts every context's http module, and platform/storage/mod.rs names
every context's store trait as the one `Storage` the application state holds.

`--self-test` runs the check on a small tree with one violation of each kind and fails unless
every one is reported.
"""

import pathlib
import re
import sys
import tempfile

BELOW_HTTP = [
    (re.compile(r"\bpoem(_openapi)?::"), "poem"),
    (re.compile(r"\bApiError\b"), "ApiError"),
    (re.compile(r"\bAppState\b"), "AppState"),
    (re.compile(r"(::|\bsuper::|\bself::)http\b"), "an http module"),
    # `pub use http::X` at a context's root would hand http items to modules below http
    # under a path the checks cannot see.
    (re.compile(r"\bpub(\([a-z]+\))? use (self::)?http::"), "an http module"),
]
MODEL_IO = [
    (re.compile(r"\bsqlx::"), "sqlx"),
    (re.compile(r"\btokio::"), "tokio"),
    (re.compile(r"\bobject_store::"), "object_store"),
]
# Lines a source file may have before its `#[cfg(test)]` module.
MAX_LINES = 600
# Files whose job is to assemble every context.
COMPOSITION_ROOTS = {("platform", "app.rs"), ("platform", "storage", "mod.rs")}
# The session extractor is a poem SecurityScheme every context's http modules use: it is http.
HTTP_EDGES = {("identity", "auth.rs")}
# Rooms every context has.
ROOMS = ("http", "service", "model")
# A storage method called outside a service or store: `state.storage.region(`, across lines.
STORAGE_CALL = re.compile(r"\.storage\s*\.\s*[a-z_]+\s*(::<[^>]*>)?\s*\(")
# `crate::<context>::...::store` or `::http` named from another context.
CROSS = re.compile(r"\bcrate::(\w+)::(?:\w+::)*?(store|http)\b")


def room(path: pathlib.Path) -> str | None:
    parts = path.parts
    if parts in HTTP_EDGES or "http" in parts[:-1]:
        return "http"
    if path.name in ("model.rs", "service.rs", "store.rs", "http.rs"):
        return path.stem
    for folder in ("store", "service"):
        if folder in parts[:-1]:
            return folder
    if "model" in parts[:-1]:
        return "model"
    return None


def code_lines(text: str):
    """Lines outside `#[cfg(test)]` modules and comments."""
    test_from = text.find("#[cfg(test)]")
    if test_from >= 0:
        text = text[:test_from]
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        yield number, line.split("//")[0]


def code_text(text: str) -> str:
    """The source before its tests, without comments, with line numbers kept."""
    return "\n".join(line for _, line in code_lines(text))


def check(src: pathlib.Path) -> list[str]:
    problems = []
    rooms: dict[str, set[str]] = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        kind = room(rel)
        context = rel.parts[0] if len(rel.parts) > 1 else None
        text = path.read_text(encoding="utf-8")
        test_from = text.find("#[cfg(test)]")
        length = (text if test_from < 0 else text[:test_from]).count("\n")
        if length > MAX_LINES:
            problems.append(
                f"{src.name}/{rel}: {length} lines before its tests (at most {MAX_LINES}); split it"
            )
        in_context = context is not None and context != "platform"
        if in_context:
            rooms.setdefault(context, set()).add(kind or "")
            if kind not in ("service", "store"):
                code = code_text(text)
                for m in STORAGE_CALL.finditer(code):
                    number = code.count("\n", 0, m.start()) + 1
                    problems.append(
                        f"{src.name}/{rel}:{number}: a {kind or 'plain'} module calls storage; "
                        f"go through the context's service"
                    )
        for number, line in code_lines(text):
            where = f"{src.name}/{rel}:{number}"
            if kind in ("model", "service", "store") or (in_context and kind != "http"):
                for pattern, what in BELOW_HTTP:
                    if pattern.search(line):
                        problems.append(f"{where}: a {kind or 'plain'} module names {what}")
            if kind == "model":
                for pattern, what in MODEL_IO:
                    if pattern.search(line):
                        problems.append(f"{where}: a model module does I/O through {what}")
            if rel.parts in COMPOSITION_ROOTS:
                continue
            for m in CROSS.finditer(line):
                other, inner = m.group(1), m.group(2)
                if inner == "http" and kind == "http":
                    continue
                if context and other != context and other != "platform":
                    problems.append(
                        f"{where}: the {context} context reaches the {inner} of {other}; "
                        f"use its service or model"
                    )
    for context, present in sorted(rooms.items()):
        for r in ROOMS:
            if r not in present:
                problems.append(f"{src.name}/{context}: the context has no {r} room")
    return problems


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "src"
        files = {
            "booking/model.rs": "use poem_openapi::Object;\nuse sqlx::Row;\n",
            "booking/service.rs": "use crate::platform::error::ApiError;\n",
            "booking/store.rs": "fn f(s: &AppState) {}\n",
            "casework/store/sqlite.rs": "use super::super::http::Thing;\n",
            "casework/service.rs": "use crate::booking::store::SlotStore;\n",
            "casework/http.rs": "use poem::web::Data; use crate::platform::error::ApiError;\n",
            "casework/model.rs": "// poem:: in a comment is fine\n#[cfg(test)]\nmod t { use sqlx::Row; }\n",
            "platform/app.rs": "use crate::booking::http::AppointmentsApi;\n",
            "platform/jobs.rs": "use crate::booking::store::Due;\n",
            "booking/calendar.rs": "// a line\n" * (MAX_LINES + 1),
            "booking/schedule.rs": "// a line\n" * MAX_LINES + "#[cfg(test)]\n" + "// a test\n" * 50,
            "booking/http.rs": "use crate::directory::http::ServicePoint;\nfn f(state: &AppState) {\n    let _ = state\n        .storage\n        .region(code);\n}\n",
            "casework/service/submit.rs": "fn f(storage: &dyn Storage) { storage.region(code); }\n",
            "casework/materials.rs": "use poem_openapi::Object;\nfn f() { state.storage.material(id); }\n",
            "casework/http/views.rs": "use poem_openapi::Object;\n",
            "casework/calendar.rs": "use crate::directory::http::ServicePoint;\n",
            "identity/auth.rs": "use poem_openapi::SecurityScheme;\n",
            "identity/model.rs": "",
            "identity/service.rs": "",
            "counter/model.rs": "",
            "booking/mod.rs": "pub mod http;\npub use http::AppointmentsApi;\n",
        }
        for name, text in files.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(text)
        found = check(src)
        expected = [
            "booking/model.rs:1: a model module names poem",
            "booking/model.rs:2: a model module does I/O through sqlx",
            "booking/service.rs:1: a service module names ApiError",
            "booking/store.rs:1: a store module names AppState",
            "casework/store/sqlite.rs:1: a store module names an http module",
            "casework/service.rs:1: the casework context reaches the store of booking",
            "platform/jobs.rs:1: the platform context reaches the store of booking",
            "booking/calendar.rs: 601 lines before its tests",
            "booking/http.rs:4: a http module calls storage",
            "casework/materials.rs:1: a plain module names poem",
            "casework/materials.rs:2: a plain module calls storage",
            "casework/calendar.rs:1: a plain module names an http module",
            "casework/calendar.rs:1: the casework context reaches the http of directory",
            "booking/mod.rs:2: a plain module names an http module",
            "src/counter: the context has no http room",
            "src/counter: the context has no service room",
        ]
        missing = [e for e in expected if not any(e in f for f in found)]
        extra = [f for f in found if not any(e in f for e in expected)]
        if missing or extra:
            print("layers self-test failed", "missing:", missing, "unexpected:", extra)
            return 1
        print(f"layers self-test: {len(expected)} passed, 0 failed")
        return 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "api/src")
    problems = check(src)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering problems")
        return 1
    print("layers: every context has its rooms, and everything but http stays below http")
    return 0


if __name__ == "__main__":
    sys.exit(main())
