"""Static checks of infra/ (no Bicep CLI can be had here): every .bicep parses with
pycep-parser, checkov finds no failed check and every skip is needed and explained,
main.bicep provides every app setting the code reads, and (evaluating the parsed templates
for given parameters) the PostgreSQL search engine's options declare what they should.

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
# The PostgreSQL search engine's settings, agreed with the code that reads them (shared/postgres):
# the engine and the connection, set from the server the template makes (FACE_POSTGRES_URL is for
# local development and stays empty in Azure), and the tuning, left to the code's defaults.
POSTGRES_SETTINGS = {"FACE_SEARCH_ENGINE", "FACE_POSTGRES_HOST", "FACE_POSTGRES_PORT", "FACE_POSTGRES_DATABASE",
                     "FACE_POSTGRES_USER", "FACE_POSTGRES_CLIENT_ID", "FACE_POSTGRES_SSLMODE", "FACE_POSTGRES_URL"}
POSTGRES_TUNING = {"FACE_POSTGRES_POOL_SIZE", "FACE_POSTGRES_TIMEOUT_SECONDS", "FACE_POSTGRES_EF_SEARCH",
                   "FACE_POSTGRES_HNSW_M", "FACE_POSTGRES_HNSW_EF_CONSTRUCTION",
                   "FACE_POSTGRES_EXACT_FACES", "FACE_POSTGRES_EXACT_PERSONS", "FACE_POSTGRES_REMOVAL_RETENTION_SECONDS"}
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


# ---- what a deployment declares for given parameters ------------------------------------------


class Deployment:
    """One parsed template evaluated for given parameter values (the rest take their defaults).

    Covers the part of Bicep's expression language these templates use for their choices:
    parameter and variable names, literals, ?:, ==, !=, &&, ||, !, comparisons, empty(),
    concat(), string(), + and -, and '${name}' interpolation of parameters and variables. A reference to
    another resource or module (``identity.outputs.name``) stays as its dotted text, other
    functions (``subscription().tenantId``, ``guid(...)``) as their parse trees."""

    def __init__(self, tree: dict, **params):
        unknown = set(params) - set(tree["parameters"])
        assert not unknown, f"no such parameters: {unknown}"
        self.tree = tree
        self.params = {name: spec.get("default") for name, spec in tree["parameters"].items()} | params

    def value(self, node):
        if isinstance(node, str):
            if node in self.params:
                return self.params[node]
            if node in self.tree.get("variables", {}):
                return self.value(self.tree["variables"][node]["value"])
            return self._interpolate(node)
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "operator" in node:
            return self._operator(node["operator"]["type"], node["operator"]["operands"])
        if "function" in node:
            return self._function(node["function"])
        return {self._interpolate(key.strip("'")): self.value(item) for key, item in node.items()}

    def _interpolate(self, text: str) -> str:
        def substitute(match: re.Match) -> str:
            known = match.group(1) in self.params or match.group(1) in self.tree.get("variables", {})
            value = self.value(match.group(1)) if known else None
            return str(value) if isinstance(value, (str, int)) else match.group(0)
        return re.sub(r"\$\{(\w+)\}", substitute, text)

    def _operator(self, kind: str, operands: dict):
        if kind == "conditional":
            chosen = operands["true_value"] if self.value(operands["condition"]) else operands["false_value"]
            return self.value(chosen)
        if kind == "property_accessor":
            return f"{self.reference(operands['operand_1'])}.{self.reference(operands['operand_2'])}"
        args = [self.value(operand) for operand in operands.values()]
        return {"equals": lambda a, b: a == b, "not_equals": lambda a, b: a != b, "and": lambda a, b: a and b,
                "or": lambda a, b: a or b, "not": lambda a: not a, "greater_than": lambda a, b: a > b,
                "greater_than_or_equals": lambda a, b: a >= b, "less_than": lambda a, b: a < b,
                "add": lambda a, b: a + b, "substract": lambda a, b: a - b}[kind](*args)

    def reference(self, node) -> str:
        """The dotted text of a property access (`endpoint.name`), or the name itself."""
        if isinstance(node, dict) and node.get("operator", {}).get("type") == "property_accessor":
            return self._operator("property_accessor", node["operator"]["operands"])
        return str(node)

    def _function(self, function: dict):
        args = [self.value(arg) for arg in function.get("parameters", {}).values()]
        if function["type"] == "empty":
            return not args[0]
        if function["type"] == "concat":
            return [item for arg in args for item in arg]
        if function["type"] == "string":
            return str(args[0])
        return {"function": function}

    def _declared(self, entry: dict) -> dict | None:
        config = entry["config"]
        if "condition" in config or "loop_type" in config:
            if config.get("condition") is not None and not self.value(config["condition"]):
                return None
            config = config["config"]
        return self.value(config)

    def resource(self, symbol: str) -> dict | None:
        """The resource's body as deployed with these parameters, None when its condition is false."""
        return self._declared(self.tree["resources"][symbol])

    def module(self, symbol: str) -> dict | None:
        return self._declared(self.tree["modules"][symbol])

    def app_settings(self) -> dict:
        return self.value("appSettings")


def main_deployment(**params) -> Deployment:
    return Deployment(parse_bicep(INFRA / "main.bicep"), environmentName="face", location="swedencentral", **params)


def module_deployment(main: Deployment, symbol: str) -> Deployment:
    """A module of main.bicep, with the parameters main.bicep passes it."""
    module = main.module(symbol)
    assert module is not None, f"module {symbol} is not deployed"
    path = INFRA / main.tree["modules"][symbol]["detail"]["path"]
    return Deployment(parse_bicep(path), **module["params"])


def postgres_deployment(**params) -> Deployment:
    return module_deployment(main_deployment(searchEngine="postgres", **params), "postgres")


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for item in node.values() for key in _keys(item)}
    if isinstance(node, list):
        return {key for item in node for key in _keys(item)}
    return set()


def test_every_module_gets_each_parameter_it_declares_and_no_other():
    main = parse_bicep(INFRA / "main.bicep")
    for symbol, module in main["modules"].items():
        declared = parse_bicep(INFRA / module["detail"]["path"])["parameters"]
        config = module["config"]["config"] if "condition" in module["config"] else module["config"]
        passed = set(config["params"])
        required = {name for name, spec in declared.items() if "default" not in spec}
        assert required <= passed <= set(declared), f"module {symbol}: passed {passed}, declares {set(declared)}"


def test_the_embedded_engine_deploys_no_postgres_and_leaves_its_settings_empty():
    for network in ("public", "private"):
        main = main_deployment(network=network)
        assert main.params["searchEngine"] == "embedded"
        assert main.module("postgres") is None
        settings = main.app_settings()
        assert settings["FACE_SEARCH_ENGINE"] == "embedded"
        assert {settings[name] for name in (POSTGRES_SETTINGS | POSTGRES_TUNING) - {"FACE_SEARCH_ENGINE"}} == {""}
        assert main.module("vault")["params"]["encryptionKeyNames"] == ["storage-encryption"]
        if network == "private":
            assert main.module("vnet")["params"]["postgresServerId"] == ""
            endpoints = module_deployment(main, "vnet").value("endpoints")
            assert {endpoint["name"] for endpoint in endpoints} == {"blob", "queue", "table", "vault"}


def test_the_postgres_engine_sets_the_agreed_app_settings_from_the_server():
    main = main_deployment(searchEngine="postgres")
    settings = main.app_settings()
    assert POSTGRES_SETTINGS <= set(settings)
    assert {name for name in settings if name.startswith("FACE_POSTGRES_")} == (
        POSTGRES_SETTINGS | POSTGRES_TUNING) - {"FACE_SEARCH_ENGINE"}
    assert {settings[name] for name in POSTGRES_TUNING} == {""}
    assert settings["FACE_SEARCH_ENGINE"] == "postgres"
    assert settings["FACE_POSTGRES_HOST"] == "postgres.outputs.host"
    assert settings["FACE_POSTGRES_PORT"] == "postgres.outputs.port"
    assert settings["FACE_POSTGRES_DATABASE"] == "postgres.outputs.database"
    assert settings["FACE_POSTGRES_USER"] == "postgres.outputs.user"
    assert settings["FACE_POSTGRES_CLIENT_ID"] == "identity.outputs.clientId"  # the token's identity
    assert settings["FACE_POSTGRES_SSLMODE"] == "require"
    assert settings["FACE_POSTGRES_URL"] == ""

    postgres = module_deployment(main, "postgres")
    outputs = postgres.tree["outputs"]
    assert postgres.value(outputs["host"]["value"]) == "server.properties.fullyQualifiedDomainName"
    assert postgres.value(outputs["port"]["value"]) == 5432
    assert postgres.value(outputs["database"]["value"]) == "face"
    # The user is the administrator's principal name, which is the app identity's name.
    assert postgres.value(outputs["user"]["value"]) == "appAdministrator.properties.principalName"
    assert postgres.resource("appAdministrator")["properties"]["principalName"] == "identity.outputs.name"


def test_postgres_is_entra_only_with_the_app_identity_as_administrator():
    postgres = postgres_deployment()
    server = postgres.resource("server")
    assert server["properties"]["version"] == "17"
    auth = server["properties"]["authConfig"]
    assert (auth["activeDirectoryAuth"], auth["passwordAuth"]) == ("Enabled", "Disabled")
    admin = postgres.resource("appAdministrator")
    assert admin["parent"] == "server"
    assert admin["name"] == "identity.outputs.principalId"  # the object id of the app's identity
    assert admin["properties"]["principalType"] == "ServicePrincipal"
    assert admin["properties"]["principalName"] == "identity.outputs.name"
    # No password, administrator login or secure parameter anywhere in infra/.
    for path in BICEP_FILES:
        tree = parse_bicep(path)
        keys = _keys(tree["resources"]) | _keys(tree.get("modules", {})) | set(tree["parameters"])
        assert not [key for key in keys if re.search(r"password(?!Auth$)|administratorLogin", key, re.I)], path
        assert not [name for name, spec in tree["parameters"].items()
                    if any(decorator["type"] == "secure" for decorator in spec["decorators"])], path


def test_postgres_allow_lists_the_extensions_and_creates_the_database():
    postgres = postgres_deployment()
    extensions = postgres.resource("extensions")
    assert extensions["name"] == "azure.extensions"
    assert set(extensions["properties"]["value"].upper().split(",")) == {"VECTOR", "PG_DISKANN"}
    assert extensions["properties"]["source"] == "user-override"
    assert postgres.resource("database")["name"] == "face"
    assert postgres.resource("server")["properties"]["cluster"] is None
    assert postgres.resource("server")["properties"]["storage"]["autoGrow"] == "Enabled"


def test_postgres_cluster_nodes_make_an_elastic_cluster_with_one_database():
    postgres = postgres_deployment(postgresClusterNodes=4)
    server = postgres.resource("server")
    assert server["properties"]["cluster"] == {"clusterSize": 4, "defaultDatabaseName": "face"}
    assert server["properties"]["storage"]["autoGrow"] == "Disabled"  # not supported on clusters
    assert postgres.resource("database") is None  # a cluster has only its default database
    assert postgres.value(postgres.tree["outputs"]["database"]["value"]) == "face"
    # properties.cluster is in the stable API from 2025-08-01; every child uses the server's version.
    assert {resource["api_version"] for resource in postgres.tree["resources"].values()
            if resource["type"].startswith("Microsoft.DBforPostgreSQL/")} == {"2025-08-01"}


def test_postgres_private_network_has_an_endpoint_and_dns_zone_and_no_public_access():
    main = main_deployment(searchEngine="postgres", network="private")
    assert main.module("vnet")["params"]["postgresServerId"] == "postgres.outputs.id"
    network = module_deployment(main, "vnet")
    endpoint = {"name": "postgresqlServer", "target": "postgres.outputs.id",
                "zone": "privatelink.postgres.database.azure.com"}
    assert endpoint in network.value("endpoints")
    # The endpoints, zones, zone links and zone groups are all made per entry of `endpoints`.
    for symbol in ("privateEndpoints", "zones", "zoneLinks", "zoneGroups"):
        assert network.tree["resources"][symbol]["config"]["loop_type"]["detail"]["array_name"] == "endpoints"
    connection = network.tree["resources"]["privateEndpoints"]["config"]["config"]["properties"][
        "privateLinkServiceConnections"][0]["properties"]
    assert network.reference(connection["groupIds"][0]) == "endpoint.name"  # postgresqlServer
    postgres = module_deployment(main, "postgres")
    assert postgres.resource("server")["properties"]["network"] == {"publicNetworkAccess": "Disabled"}
    assert postgres.resource("azureServices") is None


def test_postgres_public_network_admits_only_azure_services():
    postgres = postgres_deployment(network="public")
    assert postgres.resource("server")["properties"]["network"] == {"publicNetworkAccess": "Enabled"}
    rules = [symbol for symbol, resource in postgres.tree["resources"].items()
             if resource["type"].endswith("/firewallRules") and postgres.resource(symbol)]
    assert rules == ["azureServices"]
    assert postgres.resource("azureServices")["properties"] == {"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"}


def test_postgres_high_availability_sets_the_server_mode():
    allowed = parse_bicep(INFRA / "main.bicep")["parameters"]["postgresHighAvailability"]["decorators"][0]
    assert allowed["type"] == "allowed" and set(allowed["argument"]) == {"Disabled", "SameZone", "ZoneRedundant"}
    assert postgres_deployment().resource("server")["properties"]["highAvailability"] == {"mode": "Disabled"}
    for mode in ("SameZone", "ZoneRedundant"):
        server = postgres_deployment(postgresHighAvailability=mode).resource("server")
        assert server["properties"]["highAvailability"] == {"mode": mode}


def test_postgres_customer_managed_key_encrypts_with_its_own_key_in_the_vault():
    server = postgres_deployment().resource("server")
    assert server["identity"] is None
    assert server["properties"]["dataEncryption"] == {"type": "SystemManaged"}

    main = main_deployment(searchEngine="postgres", customerManagedKey=True)
    postgres = module_deployment(main, "postgres")
    server = postgres.resource("server")
    assert server["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {"encryptionIdentity.outputs.id": {}}}
    assert server["properties"]["dataEncryption"] == {
        "type": "AzureKeyVault", "primaryKeyURI": "${vault.outputs.uri}keys/postgres-encryption",
        "primaryUserAssignedIdentityId": "encryptionIdentity.outputs.id"}  # versionless: follows rotation
    vault = module_deployment(main, "vault")
    assert vault.value(vault.tree["resources"]["encryptionKeys"]["config"]["loop_type"]["detail"]["array_name"]) == [
        "storage-encryption", "postgres-encryption"]
    assert vault.resource("encryptionUnwrapsKeys")["properties"]["principalId"] == "encryptionIdentity.outputs.principalId"


def test_postgres_geo_backup_only_without_a_customer_managed_key():
    def geo(**params) -> str:
        return postgres_deployment(**params).resource("server")["properties"]["backup"]["geoRedundantBackup"]

    assert geo() == "Disabled"
    assert geo(postgresGeoRedundantBackup=True) == "Enabled"
    assert geo(postgresGeoRedundantBackup=True, customerManagedKey=True) == "Disabled"
    assert postgres_deployment(postgresBackupRetentionDays=35).resource("server")["properties"]["backup"][
        "backupRetentionDays"] == 35


def test_main_parameters_json_maps_only_parameters_main_bicep_declares():
    mapped = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    declared = parse_bicep(INFRA / "main.bicep")["parameters"]
    assert set(mapped) <= set(declared), set(mapped) - set(declared)
    # The azd defaults of the postgres options are main.bicep's own defaults.
    for name, entry in mapped.items():
        default = re.fullmatch(r"\$\{\w+=(.*)\}", entry["value"])
        if name.startswith(("searchEngine", "postgres")):
            assert default and default.group(1) == str(declared[name]["default"]), name
