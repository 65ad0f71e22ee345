"""Load id-keyed YAML records (accelerators, models, ...) from the packaged data and user folders.

A record is one YAML mapping with an ``id``. Packaged records come first; user folders (``--catalog
DIR``, ``CHIPWATCH_PATH``) are layered on top in order: a user file with a new id adds a record, one
with an existing id is deep-merged over it (override a few values). Problems are collected as
:class:`LoadError` rows (file, field, reason) and never stop the rest of the catalog from loading.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class LoadError:
    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


def packaged_dir(kind: str) -> Path:
    """Folder of the packaged YAML records of one kind (``accelerators``, ``models``, ...)."""
    return Path(str(resources.files("chipwatch") / "data" / kind))


def display_path(file: str) -> str:
    """A file as shown to others: ``packaged:<path in the package data>`` or ``user:<name>``,
    never an absolute path on the server."""
    p = Path(file)
    data = Path(str(resources.files("chipwatch") / "data"))
    try:
        return f"packaged:{p.resolve().relative_to(data.resolve()).as_posix()}"
    except (ValueError, OSError):
        return f"user:{p.name}"


def user_dirs(extra: Iterable[str | Path] = (), env: bool = True) -> list[Path]:
    """User catalog folders: ``CHIPWATCH_PATH`` (os.pathsep-separated, unless ``env`` is
    False: a workspace has resolved it already) then explicit ones."""
    path = os.environ.get("CHIPWATCH_PATH", "") if env else ""
    dirs = [Path(p) for p in path.split(os.pathsep) if p.strip()]
    dirs += [Path(p) for p in extra]
    return dirs


def yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def user_files(folder: Path, kind: str) -> list[Path]:
    """YAML files of one kind in a user folder: ``DIR/<kind>/**`` (accelerators: also ``DIR/*``)."""
    files = yaml_files(folder / kind) if (folder / kind).is_dir() else []
    if kind == "accelerators":
        files += sorted(
            p for p in folder.glob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
        )
    return files


MAX_FILE_BYTES = 1_000_000  # one catalog file; the largest packaged one is ~20 kB
MAX_RECORDS_PER_FILE = 2_000  # records in one file; the most in a packaged one is ~250
MAX_YAML_NODES = 200_000  # nodes after aliases are expanded (a "billion laughs" file has ~1e9)
MAX_CACHE_BYTES = 8_000_000  # the parse cache on disk; least recently used entries go first
MAX_CACHE_ENTRIES = 4_000


class ParseCache:
    """Parsed YAML documents kept as JSON, keyed by a hash of the file's text.

    Parsing YAML is most of the CLI's start-up; JSON loads several times faster. The cache
    lives in ``$CHIPWATCH_CACHE_DIR`` (default ``~/.cache/chipwatch``); ``CHIPWATCH_NO_CACHE=1``
    turns it off. Any problem reading or writing it just means parsing the YAML again.
    """

    def __init__(self) -> None:
        self.entries: dict[str, Any] | None = None
        self.used: set[str] = set()
        self.dirty = False

    @staticmethod
    def file() -> Path | None:
        if os.environ.get("CHIPWATCH_NO_CACHE"):
            return None
        root = os.environ.get("CHIPWATCH_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
            "chipwatch",
        )
        return Path(root) / "yaml-parse-cache.json"

    def _load(self) -> dict[str, Any]:
        if self.entries is None:
            self.entries = {}
            f = self.file()
            if f is not None and f.is_file():
                try:
                    if f.stat().st_size > 2 * MAX_CACHE_BYTES:  # from an older, unbounded cache
                        self.dirty = True
                        return self.entries
                    data = json.loads(f.read_text(encoding="utf-8"))
                    if isinstance(data, dict):
                        self.entries = data
                except (OSError, ValueError):
                    pass
        return self.entries

    @staticmethod
    def key(text: str) -> str:
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()

    def get(self, text: str) -> Any:
        key = self.key(text)
        found = self._load().get(key)
        if found is not None:
            self.used.add(key)
        return found

    def put(self, text: str, doc: Any) -> None:
        if self.file() is not None:
            key = self.key(text)
            self._load()[key] = doc
            self.used.add(key)
            self.dirty = True

    def pruned(self) -> str:
        """The cache as JSON, within :data:`MAX_CACHE_BYTES` and :data:`MAX_CACHE_ENTRIES`:
        entries this process used are kept first, then the others newest first."""
        entries = self.entries or {}
        order = [k for k in reversed(entries) if k in self.used]
        order += [k for k in reversed(entries) if k not in self.used]
        kept: dict[str, Any] = {}
        size = 2
        for k in order[:MAX_CACHE_ENTRIES]:
            item = len(json.dumps(entries[k])) + len(k) + 6
            if size + item > MAX_CACHE_BYTES:
                continue
            kept[k] = entries[k]
            size += item
        self.entries = dict(reversed(list(kept.items())))  # oldest first, as read back
        return json.dumps(self.entries)

    def save(self) -> None:
        f = self.file()
        if f is None or self.entries is None:
            return
        if not self.dirty and len(self.entries) <= MAX_CACHE_ENTRIES:
            return
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(self.pruned(), encoding="utf-8")
            os.replace(tmp, f)
            self.dirty = False
        except (OSError, TypeError, ValueError):
            pass


PARSE_CACHE = ParseCache()


def read_yaml(path: Path) -> tuple[list[dict[str, Any]], list[LoadError]]:
    """Parse a file holding one mapping or a list of mappings.

    A file that cannot be read, is over :data:`MAX_FILE_BYTES`, is not UTF-8, is not valid YAML
    or whose aliases expand past :data:`MAX_YAML_NODES` gives one :class:`LoadError` and no
    records; so does one holding more than :data:`MAX_RECORDS_PER_FILE` records.
    """
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], [
                LoadError(file, "(file)", f"{size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit")
            ]
        data = path.read_bytes()
    except OSError as e:
        return [], [LoadError(file, "(file)", f"cannot read: {e.strerror or e}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return [], [LoadError(file, "(file)", f"not UTF-8 text (byte {e.start}): not a YAML file?")]
    cached = PARSE_CACHE.get(text)
    if cached is not None:
        return _records(path, cached)
    doc, err = parse_yaml(text)
    if err is not None:
        return [], [LoadError(file, err[0], err[1])]
    if _json_safe(doc):
        PARSE_CACHE.put(text, doc)
    return _records(path, doc)


def parse_yaml(text: str) -> tuple[Any, tuple[str, str] | None]:
    """The YAML document in ``text`` (safe loader), or (where, reason) of why not."""
    import yaml  # imported here: a warm parse cache never needs it

    cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is several times faster
    loader = cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        nodes = expanded_size(node, MAX_YAML_NODES)
        if nodes > MAX_YAML_NODES:
            return None, (
                "(yaml)",
                f"aliases expand to over {MAX_YAML_NODES:,} nodes (an alias bomb?); refused",
            )
        return loader.construct_document(node), None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        problem = getattr(e, "problem", None) or str(e)
        return None, (where, f"invalid YAML: {problem}")
    except RecursionError:
        return None, ("(yaml)", "nested too deeply")
    finally:
        loader.dispose()


def expanded_size(root: Any, limit: int) -> int:
    """Nodes in a composed YAML graph with every alias expanded (stops counting past
    ``limit``). Shared nodes are counted once per use, each computed once."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done:
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[id(node)] = min(total, limit + 1)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):
        return []
    out: list[Any] = []
    for item in value:
        if isinstance(item, tuple):
            out.extend(item)
        else:
            out.append(item)
    return out


def first_non_finite(doc: Any, path: str = "") -> str | None:
    """The path of the first NaN or infinity in a parsed document, or None."""
    if isinstance(doc, float) and not math.isfinite(doc):
        return path or "(value)"
    if isinstance(doc, dict):
        for k, v in doc.items():
            found = first_non_finite(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found = first_non_finite(v, f"{path}[{i}]")
            if found:
                return found
    return None


def _json_safe(doc: Any) -> bool:
    """Only documents that JSON round-trips unchanged are cached (no dates, no int keys)."""
    try:
        return bool(json.loads(json.dumps(doc)) == doc)
    except (TypeError, ValueError):
        return False


def _records(path: Path, doc: Any) -> tuple[list[dict[str, Any]], list[LoadError]]:
    docs = doc if isinstance(doc, list) else [doc]
    if len(docs) > MAX_RECORDS_PER_FILE:
        reason = f"{len(docs):,} records, over the {MAX_RECORDS_PER_FILE:,} per file limit"
        return [], [LoadError(str(path), "(file)", reason)]
    out, errs = [], []
    for i, d in enumerate(docs):
        where = f"[{i}]" if isinstance(doc, list) else ""
        if not isinstance(d, dict):
            errs.append(LoadError(str(path), f"[{i}]", "expected a mapping with an 'id'"))
        elif "id" not in d:
            errs.append(LoadError(str(path), "id", "field required"))
        elif bad := first_non_finite(d):
            field = f"{where}.{bad}" if where else bad
            errs.append(LoadError(str(path), field, "not a finite number; record skipped"))
        else:
            out.append(d)
    return out, errs


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (values, lists) is replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def format_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for x in loc:
        if isinstance(x, int):
            parts.append(f"[{x}]")
        else:
            parts.append(("." if parts else "") + str(x))
    return "".join(parts) or "(record)"


def validation_errors(file: str, err: ValidationError) -> list[LoadError]:
    rows = []
    for e in err.errors():
        loc = tuple(x for x in e["loc"] if not str(x).startswith("function-"))
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = "field required"
        elif e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "enum":
            msg = f"{msg} (got {e.get('input')!r})"
        rows.append(LoadError(file, format_loc(loc), msg))
    return rows


@dataclass
class Loaded(Generic[R]):
    records: dict[str, R]
    origins: dict[str, list[str]]
    errors: list[LoadError]


def load_records(
    kind: str, schema: type[R], extra_dirs: Iterable[str | Path] = (), env: bool = True
) -> Loaded[R]:
    """Load packaged records of ``kind`` then layer user folders over them (``CHIPWATCH_PATH``
    first unless ``env`` is False)."""
    raw: dict[str, dict[str, Any]] = {}
    origins: dict[str, list[str]] = {}
    errors: list[LoadError] = []

    user_origin: dict[str, str] = {}

    def ingest(files: Iterator[Path] | list[Path], user: bool) -> None:
        for f in files:
            docs, errs = read_yaml(f)
            errors.extend(errs)
            for d in docs:
                rid = str(d["id"])
                if user and rid in user_origin:
                    errors.append(
                        LoadError(
                            str(f),
                            "id",
                            f"duplicate id {rid!r}, also in {user_origin[rid]}; "
                            "this file's values are merged over it",
                        )
                    )
                if user:
                    user_origin[rid] = str(f)
                raw[rid] = deep_merge(raw[rid], d) if rid in raw else d
                origins.setdefault(rid, []).append(str(f))

    ingest(yaml_files(packaged_dir(kind)), user=False)
    for folder in user_dirs(extra_dirs, env):
        if not folder.is_dir():
            errors.append(LoadError(str(folder), "(folder)", "not a directory"))
            continue
        ingest(user_files(folder, kind), user=True)

    PARSE_CACHE.save()
    records: dict[str, R] = {}
    for rid, d in raw.items():
        try:
            records[rid] = schema.model_validate(d)
        except ValidationError as e:
            errors.extend(validation_errors(origins[rid][-1], e))
    return Loaded(records, origins, errors)


def validate_folder(
    folder: str | Path, schemas: dict[str, type[BaseModel]], context: dict[str, Any] | None = None
) -> list[LoadError]:
    """Check every YAML file in a folder on its own and report every problem.

    A file that overrides a packaged record by id is checked after merging onto it;
    ``context`` is passed to the schemas' validators (e.g. ``{"ws": workspace}``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return [LoadError(str(folder), "(folder)", "not a directory")]
    errors: list[LoadError] = []
    for kind, schema in schemas.items():
        packaged = {}
        for f in yaml_files(packaged_dir(kind)):
            for d in read_yaml(f)[0]:
                packaged[str(d["id"])] = d
        for f in user_files(folder, kind):
            docs, errs = read_yaml(f)
            errors.extend(errs)
            for d in docs:
                base = packaged.get(str(d["id"]))
                merged = deep_merge(base, d) if base else d
                try:
                    schema.model_validate(merged, context=context)
                except ValidationError as e:
                    errors.extend(validation_errors(str(f), e))
    return errors
