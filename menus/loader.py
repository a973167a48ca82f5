"""Load flow.toml and prompts/*.toml into frozen objects, or say everything that is wrong.

A translator or a radio station edits these files, never the code, so every problem is reported at
once, each naming its file and node, instead of failing on the first one during a live call.
"""

from __future__ import annotations

import tomllib
from collections import deque
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .schema import ACTIONS, NODE_TYPES, NUMBER_FIELDS, Flow, Language, Menus, Node, Option

DEFAULT_ROOT = Path(__file__).resolve().parent
KEYS = set("0123456789*#")
MAX_PROMPT_CHARS = 1000


class MenuError(Exception):
    """The menu files have problems; `problems` lists each as 'file: node: what'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the menu files:\n  " + "\n  ".join(problems))


def load_menus(root: Path | str | None = None) -> Menus:
    """Read and validate the flow and every language's prompts under root."""
    root = Path(root) if root else DEFAULT_ROOT
    problems: list[str] = []
    flow_path = root / "flow.toml"
    raw_flow = _read_toml(flow_path, problems)
    flow = _build_flow(raw_flow, flow_path.name, problems) if raw_flow is not None else None
    languages: dict[str, Language] = {}
    prompt_dir = root / "prompts"
    files = sorted(prompt_dir.glob("*.toml")) if prompt_dir.is_dir() else []
    if not files:
        problems.append(f"prompts/: no prompt files (expected prompts/<language>.toml) under {root}")
    for path in files:
        raw = _read_toml(path, problems)
        if raw is None:
            continue
        lang = _build_language(raw, path, problems)
        if lang is None:
            continue
        if lang.code in languages:
            problems.append(f"prompts/{path.name}: language code {lang.code!r} is already used")
        languages[lang.code] = lang
    if flow is None:
        raise MenuError(problems or [f"{flow_path}: could not be read"])
    menus = Menus(flow=flow, languages=MappingProxyType(languages), root=str(root))
    _check_languages(menus, problems)
    if problems:
        raise MenuError(problems)
    return menus


def read_toml(path: Path, where: str) -> dict[str, Any]:
    """Parse one data file; raise MenuError naming it (as `where`) when it is missing or not TOML."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise MenuError([f"{where}: file not found ({path})"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MenuError([f"{where}: not valid TOML: {exc}"]) from None


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    rel = path.name if path.parent.name != "prompts" else f"prompts/{path.name}"
    try:
        return read_toml(path, rel)
    except MenuError as exc:
        problems.extend(exc.problems)  # go on, so one run lists the problems of every file
        return None


def _build_flow(raw: dict[str, Any], fname: str, problems: list[str]) -> Flow | None:
    tables: dict[str, MappingProxyType[str, str]] = {}
    for table in ("topics", "places"):
        rows = raw.get(table)
        if not isinstance(rows, dict) or not rows:
            problems.append(f"{fname}: [{table}] is missing or empty")
            continue
        clean: dict[str, str] = {}
        for key, code in rows.items():
            if key not in KEYS or len(key) != 1:
                problems.append(f"{fname}: [{table}] key {key!r} is not a single keypad key")
            elif not isinstance(code, str) or not code.isidentifier():
                problems.append(f"{fname}: [{table}] key {key}: code {code!r} must be a plain word")
            elif code in clean.values():
                problems.append(f"{fname}: [{table}] code {code!r} is used twice")
            else:
                clean[key] = code
        tables[table] = MappingProxyType(clean)
    raw_nodes = raw.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        problems.append(f"{fname}: no [nodes.*] defined")
        return None
    nodes: dict[str, Node] = {}
    for name, spec in raw_nodes.items():
        node = _build_node(name, spec, fname, tables, problems)
        if node is not None:
            nodes[name] = node
    entry = {}
    for key in ("start", "returning_start", "too_many_tries"):
        value = raw.get(key)
        if not isinstance(value, str) or value not in raw_nodes:
            problems.append(f"{fname}: {key} = {value!r} is not a node")
        entry[key] = value if isinstance(value, str) else ""
    for node in nodes.values():
        for target in _targets(node):
            if target not in raw_nodes:
                problems.append(f"{fname}: node {node.name}: target {target!r} does not exist")
    _check_reachable(nodes, [entry["start"], entry["returning_start"], entry["too_many_tries"]], fname,
                     problems)
    return Flow(nodes=MappingProxyType(nodes), start=entry["start"], returning_start=entry["returning_start"],
                too_many_tries=entry["too_many_tries"], tables=MappingProxyType(tables))


def _build_node(name: str, spec: Any, fname: str, tables: dict[str, Any], problems: list[str]) -> Node | None:
    where = f"{fname}: node {name}"
    if not isinstance(spec, dict):
        problems.append(f"{where}: must be a table")
        return None
    kind = spec.get("type")
    if kind not in NODE_TYPES:
        problems.append(f"{where}: type {kind!r} is not one of {', '.join(NODE_TYPES)}")
        return None
    known = {"type", "prompt", "prompts", "options", "field", "choices", "next", "hangup", "timeout", "retries"}
    for extra in sorted(set(spec) - known):
        problems.append(f"{where}: unknown setting {extra!r}")
    timeout, retries = spec.get("timeout", 6), spec.get("retries", 2)
    if not isinstance(timeout, int) or not 1 <= timeout <= 60:
        problems.append(f"{where}: timeout must be 1-60 seconds")
        timeout = 6
    if not isinstance(retries, int) or not 0 <= retries <= 9:
        problems.append(f"{where}: retries must be 0-9")
        retries = 2
    prompt = spec.get("prompt")
    prompts = spec.get("prompts", [])
    if prompt is not None and not isinstance(prompt, str):
        problems.append(f"{where}: prompt must be a prompt id")
        prompt = None
    if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
        problems.append(f"{where}: prompts must be a list of prompt ids")
        prompts = []
    for p in prompts:
        if p.startswith("$") and p not in NUMBER_FIELDS:
            problems.append(f"{where}: {p!r} is not a number the hotline can speak ({', '.join(NUMBER_FIELDS)})")
    if kind in ("menu", "choice", "record", "reference") and not prompt:
        problems.append(f"{where}: a {kind} node needs a prompt")
    if kind == "say" and not prompts:
        problems.append(f"{where}: a say node needs prompts")
    options: dict[str, Option] = {}
    raw_options = spec.get("options", {})
    if kind == "menu":
        if not isinstance(raw_options, dict) or not raw_options:
            problems.append(f"{where}: a menu node needs [options]")
            raw_options = {}
        for key, opt in raw_options.items():
            if key not in KEYS or len(key) != 1:
                problems.append(f"{where}: option key {key!r} is not a single keypad key")
                continue
            if not isinstance(opt, dict) or not isinstance(opt.get("go"), str):
                problems.append(f"{where}: option {key} needs go = NODE")
                continue
            action = opt.get("action")
            if action is not None and action not in ACTIONS:
                problems.append(f"{where}: option {key}: action {action!r} is not one of {', '.join(ACTIONS)}")
                action = None
            options[key] = Option(go=opt["go"], action=action)
    elif raw_options:
        problems.append(f"{where}: only menu nodes have options")
    field_name, choices = spec.get("field"), spec.get("choices")
    if kind == "choice":
        if choices not in tables:
            problems.append(f"{where}: choices must name a table ({', '.join(tables) or 'none defined'})")
        if field_name not in ("topic", "place"):
            problems.append(f"{where}: field must be topic or place")
    nxt = spec.get("next")
    hangup = bool(spec.get("hangup", False))
    if kind in ("language", "choice", "record", "reference") and not nxt:
        problems.append(f"{where}: a {kind} node needs next")
    if kind == "say" and not nxt and not hangup:
        problems.append(f"{where}: a say node needs next or hangup = true (no dead air)")
    return Node(name=name, type=kind, prompt=prompt, prompts=tuple(prompts), options=MappingProxyType(options),
                field_name=field_name, choices=choices, next=nxt, hangup=hangup, timeout=timeout,
                retries=retries)


def _targets(node: Node) -> list[str]:
    targets = [opt.go for opt in node.options.values()]
    if node.next:
        targets.append(node.next)
    return targets


def _check_reachable(nodes: dict[str, Node], entries: list[str], fname: str, problems: list[str]) -> None:
    seen: set[str] = set()
    todo = deque(e for e in entries if e in nodes)
    while todo:
        name = todo.popleft()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(t for t in _targets(nodes[name]) if t in nodes)
    for name in nodes:
        if name not in seen:
            problems.append(f"{fname}: node {name}: cannot be reached from the start")


def _build_language(raw: dict[str, Any], path: Path, problems: list[str]) -> Language | None:
    rel = f"prompts/{path.name}"
    meta = raw.get("language")
    prompts = raw.get("prompts")
    if not isinstance(meta, dict):
        problems.append(f"{rel}: [language] table is missing")
        return None
    if not isinstance(prompts, dict):
        problems.append(f"{rel}: [prompts] table is missing")
        return None
    code = meta.get("code")
    if not isinstance(code, str) or code != path.stem:
        problems.append(f"{rel}: language code {code!r} must match the file name {path.stem!r}")
        return None
    key = meta.get("key")
    if not isinstance(key, str) or len(key) != 1 or key not in "12345678":
        problems.append(f"{rel}: key {key!r} must be one keypad digit 1-8 (9 changes language, 0 repeats)")
        key = ""
    for attr in ("name", "twilio_voice"):
        if not isinstance(meta.get(attr, ""), str):
            problems.append(f"{rel}: {attr} must be text")
    if not isinstance(meta.get("reviewed", False), bool):
        problems.append(f"{rel}: reviewed must be true or false")
    texts: dict[str, str] = {}
    for pid, text in prompts.items():
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{rel}: prompt {pid}: text is empty")
        elif len(text) > MAX_PROMPT_CHARS:
            problems.append(f"{rel}: prompt {pid}: text is longer than {MAX_PROMPT_CHARS} characters")
        else:
            texts[pid] = text.strip()
    return Language(code=code, name=str(meta.get("name") or code), key=key,
                    twilio_voice=str(meta.get("twilio_voice") or ""), reviewed=meta.get("reviewed") is True,
                    prompts=MappingProxyType(texts), path=str(path))


def _check_languages(menus: Menus, problems: list[str]) -> None:
    required = menus.required_prompts()
    keys: dict[str, str] = {}
    for lang in menus.languages.values():
        rel = f"prompts/{lang.code}.toml"
        if lang.key:
            if lang.key in keys:
                problems.append(f"{rel}: key {lang.key} is already used by {keys[lang.key]}")
            keys[lang.key] = lang.code
        for pid in required:
            if pid not in lang.prompts:
                problems.append(f"{rel}: prompt {pid}: missing ({_used_by(menus, pid)})")
        for pid in lang.prompts:
            if pid not in required:
                problems.append(f"{rel}: prompt {pid}: not used by the flow (typo?)")


def _used_by(menus: Menus, pid: str) -> str:
    users = [n.name for n in menus.flow.nodes.values() if pid in n.prompt_ids()]
    return "used by node " + ", ".join(users) if users else "used by the hotline itself"
