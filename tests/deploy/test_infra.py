"""Static checks of infra/ (no Bicep CLI can be had here): every .bicep parses with
pycep-parser, checkov finds no failed check and every skip is needed and explained, and
main.bicep provides every app setting the code reads.

The settings the code reads are derived from the code itself: the first argument of every
shared.settings env_* call (a literal, a module constant, or an f-string of those), the
%Setting% binding expressions of the app's functions, and their storage connection names.
checkov and pycep run from their own venv (.venv-tools, made by `make setup`).
"""
from __future__ import annotations

import ast
import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

INFRA = REPO_ROOT / "infra"
TOOLS_PYTHON = REPO_ROOT / ".venv-tools" / "bin" / "python"
CHECKOV = REPO_ROOT / ".venv-tools" / "bin" / "checkov"
APP_CODE = [REPO_ROOT / "function_app.py", REPO_ROOT / "functions", REPO_ROOT / "shared"]
READERS = {"env_str", "env_int", "env_float", "env_bool", "env_list"}
STORAGE_CONNECTION = "AzureWebJobsStorage"  # shared.storage.naming's default connection
# shared.storage.naming reads a connection's settings by the connection's name (a parameter):
# the name itself (a connection string) and its identity-based settings, checked per
# connection by _connection_provided.
CONNECTION_MODULE = "shared.storage.naming"
IDENTITY_SETTING = re.compile(r"\*__(accountName|\*ServiceUri|credential|clientId)")

# Settings read under names built at run time, each settable through settingOverrides.
OPEN_ENDED = {
    "FACE_QUOTA_*": "per-limit overrides of the gallery quotas (shared/galleries/quotas.py)",
}
# In main.bicep before the code that reads them is merged (the liveness branch).
PROVISIONED_AHEAD = {"FACE_LIVENESS_TOKEN_KEY", "FACE_LIVENESS_TOKEN_OLD_KEYS"}


def _tools() -> None:
    if not CHECKOV.exists():
        pytest.fail("the infra check tools are not installed: run `make setup` (.venv-tools)")


BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
_PARSE_ALL = """
import json, sys, traceback
from pathlib import Path
from pycep import BicepParser
parser, out = BicepParser(), {}
for name in sys.argv[1:]:
    try:
        out[name] = {"tree": parser.parse(file_path=Path(name))}
    except Exception:
        out[name] = {"error": traceback.format_exc(limit=2)}
print(json.dumps(out, default=str))
"""


@functools.cache
def parsed_bicep() -> dict[str, dict]:
    """Every .bicep file parsed by pycep in one tool-venv process: {path: {"tree"|"error": ...}}."""
    _tools()
    done = subprocess.run([str(TOOLS_PYTHON), "-c", _PARSE_ALL, *map(str, BICEP_FILES)], capture_output=True,
                          text=True, timeout=300, check=True)
    return json.loads(done.stdout)


def parse_bicep(path: Path) -> dict:
    result = parsed_bicep()[str(path)]
    assert "tree" in result, f"{path.relative_to(REPO_ROOT)} does not parse:\n{result['error']}"
    return result["tree"]


def run_checkov(folder: Path) -> dict:
    _tools()
    done = subprocess.run([str(CHECKOV), "-d", str(folder), "--framework", "bicep", "--skip-download", "--quiet",
                           "--compact", "-o", "json"], capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout)["results"]


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_bicep_parses(path):
    parsed = parse_bicep(path)
    assert parsed["resources"] or parsed["modules"]


def _skips_in_source() -> dict[tuple[str, str], str]:
    """(check id, file) -> reason, from the ``// checkov:skip=ID: reason`` comments."""
    skips = {}
    for path in INFRA.rglob("*.bicep"):
        for match in re.finditer(r"//\s*checkov:skip=([A-Z0-9_]+):?(.*)", path.read_text()):
            skips[(match.group(1), "/" + str(path.relative_to(INFRA)))] = match.group(2).strip()
    return skips


def test_checkov_passes_and_every_skip_is_needed_and_explained(tmp_path):
    results = run_checkov(INFRA)
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in results["failed_checks"]]
    assert not failed, f"checkov failed checks: {failed}"
    skips = _skips_in_source()
    assert all(len(reason) >= 20 for reason in skips.values()), f"a skip without a real reason: {skips}"

    # The same templates without the skip comments must fail exactly the skipped checks.
    bare = tmp_path / "infra"
    shutil.copytree(INFRA, bare, ignore=shutil.ignore_patterns("*.py", "*.json", "*.txt", "__pycache__"))
    for path in bare.rglob("*.bicep"):
        path.write_text(re.sub(r"^\s*//\s*checkov:skip=.*\n", "", path.read_text(), flags=re.M))
    needed = {(c["check_id"], c["file_path"]) for c in run_checkov(bare)["failed_checks"]}
    assert needed == set(skips), f"unneeded skips: {set(skips) - needed}; missing: {needed - set(skips)}"


# ---- settings -------------------------------------------------------------------------------


class _SettingReads(ast.NodeVisitor):
    """The first argument of every env_* call in one module, resolved where it is a literal,
    a module constant (also imported), or an f-string of those ('*' for a run-time part)."""

    def __init__(self, tree: ast.Module, constants: dict[str, dict[str, str]], module: str):
        self.constants, self.module = constants, module
        self.names: set[str] = set()
        self.unresolved: list[int] = []
        self.imported: dict[str, tuple[str, str | None]] = {}  # local name -> (module, constant or None)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = (node.module, alias.name)
        # Names assigned a string or f-string anywhere in the module (e.g. a local `override`).
        self.assigned = {node.targets[0].id: node.value for node in ast.walk(tree)
                         if isinstance(node, ast.Assign) and len(node.targets) == 1
                         and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.JoinedStr)}
        self.visit(tree)

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name in READERS and node.args:
            value = self._resolve(node.args[0])
            if value is None:
                self.unresolved.append(node.lineno)
            else:
                self.names.add(value)
        self.generic_visit(node)

    def _resolve(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.assigned:
                return self._resolve(self.assigned[node.id])
            return self._constant(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module, constant = self.imported.get(node.value.id, (None, None))
            return self.constants.get(f"{module}.{constant}", {}).get(node.attr)
        if isinstance(node, ast.JoinedStr):
            parts = [p.value if isinstance(p, ast.Constant) else (self._resolve(p.value) or "*") for p in node.values]
            return re.sub(r"\*(?:_?\*)+", "*", "".join(parts))  # FACE_QUOTA_*_* -> FACE_QUOTA_*
        return None

    def _constant(self, name: str) -> str | None:
        if name in self.constants.get(self.module, {}):
            return self.constants[self.module][name]
        module, constant = self.imported.get(name, (None, None))
        return self.constants.get(module, {}).get(constant) if module else None


def _modules() -> dict[str, ast.Module]:
    """The deployed app's modules, except shared/settings.py (the readers themselves)."""
    files = [p for root in APP_CODE for p in ([root] if root.is_file() else root.rglob("*.py"))
             if p != REPO_ROOT / "shared" / "settings.py"]
    return {".".join(p.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__"): ast.parse(p.read_text())
            for p in files}


def _module_constants(tree: ast.Module) -> dict[str, str]:
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def settings_read_by_code() -> tuple[set[str], list[str]]:
    """(setting names and patterns, unresolved call sites)."""
    modules = _modules()
    constants = {name: _module_constants(tree) for name, tree in modules.items()}
    names, unresolved = set(), []
    for module, tree in modules.items():
        reads = _SettingReads(tree, constants, module)
        names |= reads.names
        unresolved += [f"{module}:{line}" for line in reads.unresolved]
    return names, unresolved


def settings_bound_by_functions(service) -> tuple[set[str], set[str]]:
    """(%Setting% names in trigger bindings, storage connection names) of the app's functions,
    as the host loaded them (FunctionApp.get_functions() may only be called once per app)."""
    expressions, connections = set(), {STORAGE_CONNECTION}
    for function in service.host.functions.values():
        for key, value in function.trigger.items():
            if isinstance(value, str):
                expressions |= set(re.findall(r"%([^%]+)%", value))
                if key == "connection":
                    connections.add(value)
    return expressions, connections


def bicep_app_settings() -> set[str]:
    return set(parse_bicep(INFRA / "main.bicep")["variables"]["appSettings"]["value"])


def _connection_provided(connection: str, provided: set[str]) -> bool:
    trio = {f"{connection}__{service}ServiceUri" for service in ("blob", "queue", "table")}
    return connection in provided or f"{connection}__accountName" in provided or trio <= provided


def test_main_bicep_provides_every_setting_the_code_reads(service):
    read, unresolved = settings_read_by_code()
    unresolved = [site for site in unresolved if not site.startswith(CONNECTION_MODULE + ":")]
    assert not unresolved, f"setting names this scan cannot resolve (use a literal or a constant): {unresolved}"
    expressions, connections = settings_bound_by_functions(service)
    provided = bicep_app_settings()

    connection_reads = {name for name in read if name.startswith("*__")}
    assert all(IDENTITY_SETTING.fullmatch(name) for name in connection_reads), connection_reads
    patterns = {name for name in read if "*" in name} - connection_reads
    assert patterns == set(OPEN_ENDED), f"settings read under run-time names: {patterns}; explain them in OPEN_ENDED"

    literal = {name for name in read if "*" not in name} | expressions
    missing = sorted(name for name in literal if name not in provided and name != STORAGE_CONNECTION)
    assert not missing, f"infra/main.bicep appSettings lacks: {missing}"
    assert all(_connection_provided(c, provided) for c in connections), f"connections {connections} not provided"


def test_main_bicep_sets_no_setting_the_code_does_not_read(service):
    read, _ = settings_read_by_code()
    expressions, connections = settings_bound_by_functions(service)
    provided = {name for name in bicep_app_settings() if name.startswith("FACE_")}
    stale = provided - read - expressions - PROVISIONED_AHEAD
    assert not stale, f"main.bicep sets settings no code reads: {sorted(stale)}"


def test_readme_documents_every_face_setting(service):
    read, _ = settings_read_by_code()
    expressions, _ = settings_bound_by_functions(service)
    readme = (REPO_ROOT / "README.md").read_text()
    prefixes = re.findall(r"`(FACE_[A-Z_]+_)\*`", readme)
    undocumented = sorted(name for name in (read | expressions) if name.startswith("FACE_") and "*" not in name
                          and f"`{name}`" not in readme and not any(name.startswith(p) for p in prefixes))
    assert not undocumented, f"README's settings table lacks: {undocumented}"
