"""docker/compose.yaml and docker/Dockerfile hold together, checked without a Docker engine.

Every service is health-checked or a one-shot the others wait for; every dependency names its
condition; every HUB_ variable is a setting the hub reads; every secret, bind mount and volume is
declared or exists; the image runs unprivileged with a HEALTHCHECK on a real route; the build context
leaves out what must not be sent; nginx balances exactly the replicas; each service's command is a
real `hub` command line. `docker compose config` runs too where the compose plugin is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from hub.cli import app as cli_app
from hub.core.settings import Settings, SourceSettings
from hub.demo.generate import DEPARTMENTS

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
PINNED = re.compile(r"^[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.-]+)?(@sha256:[0-9a-f]{64})?$")  # a release (name:16.6, name:1.27.3-alpine), never a bare major or latest
NOT_HUB_SETTINGS = {"FORWARDED_ALLOW_IPS"}  # uvicorn's own, read by `hub serve`'s server
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """A value as compose would see it with these variables: ${VAR:-default} the variable, else its default."""
    if isinstance(value, str):
        return INTERPOLATION.sub(lambda m: variables.get(m.group(1)) or m.group(2) or "", value)
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    return value


def load_compose(variables: dict[str, str] | None = None) -> dict[str, Any]:
    """docker/compose.yaml, anchors merged and variables interpolated (none set: their defaults)."""
    return interpolate(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")), variables or {})  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


def hub_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the hub's image (built from docker/Dockerfile)."""
    return {name: s for name, s in services(compose).items() if "build" in s}


def one_shots(compose: dict[str, Any]) -> set[str]:
    return {name for name, s in services(compose).items() if s.get("restart") == "no"}


def replicas(compose: dict[str, Any]) -> set[str]:
    return {name for name, s in hub_services(compose).items() if s.get("command") == ["hub", "serve"]}


def final_stage(dockerfile: str) -> list[str]:
    """The instructions of the Dockerfile's last stage, continuation lines joined."""
    lines = re.sub(r"\\\n\s*", " ", dockerfile).splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    last = max(i for i, line in enumerate(instructions) if line.upper().startswith("FROM "))
    return instructions[last:]


def dockerfile_text() -> str:
    return (DOCKER / "Dockerfile").read_text(encoding="utf-8")


# --- services and their order ---------------------------------------------------------------


def test_every_service_is_health_checked_or_a_one_shot_someone_waits_for(compose: dict[str, Any]) -> None:
    image_checks = any(line.upper().startswith("HEALTHCHECK CMD") or line.upper().startswith("HEALTHCHECK --")
                       for line in final_stage(dockerfile_text()))
    waited_for = {dep: cond["condition"] for s in services(compose).values()
                  for dep, cond in (s.get("depends_on") or {}).items()}
    for name, service in services(compose).items():
        check = service.get("healthcheck") or {}
        if name in one_shots(compose):
            assert check.get("disable") is True, f"{name}: a one-shot has no health to check"
            assert waited_for.get(name) == "service_completed_successfully", f"nobody waits for one-shot {name}"
        elif "build" in service:
            assert image_checks and not check.get("disable"), f"{name}: the image's HEALTHCHECK is its check"
        else:
            assert check.get("test"), f"{name} has no health check"
    assert {"generate", "store-upgrade"} <= one_shots(compose)
    assert len(replicas(compose)) == 2


def test_each_dependency_waits_for_health_or_completion(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on without conditions starts before its dependencies are up"
        for dep, how in depends.items():
            assert dep in services(compose), f"{name} depends on unknown service {dep}"
            wanted = "service_completed_successfully" if dep in one_shots(compose) else "service_healthy"
            assert how == {"condition": wanted}, f"{name} -> {dep}: {how}"
    for name in replicas(compose):  # a replica starts on filled databases and a migrated store
        assert set(services(compose)[name]["depends_on"]) == {"postgres", "mariadb", "generate", "store-upgrade"}


def test_the_generator_skips_databases_it_already_filled(compose: dict[str, Any]) -> None:
    command = services(compose)["generate"]["command"]
    assert command[:2] == ["hub", "generate"] and "--skip-existing" in command
    given = {command[i][len("--url-"):]: command[i + 1] for i in range(len(command) - 1) if command[i].startswith("--url-")}
    environment = services(compose)["hub-a"]["environment"]
    assert given == {d: environment[f"HUB_SOURCE_{d.upper()}_URL"] for d in DEPARTMENTS}  # fills what the hub reads


def test_every_command_is_a_hub_command_line(compose: dict[str, Any]) -> None:
    """Each command parses as `hub …` (options and values included), without running it."""
    for name, service in hub_services(compose).items():
        command = service.get("command") or ["hub", "serve"]
        assert command[0] == "hub", name
        at: Any = typer.main.get_command(cli_app)
        args, ctx = list(command[1:]), None
        while hasattr(at, "list_commands"):  # a group: hub db upgrade is the group db, then its command upgrade
            ctx = at.context_class(at, info_name=at.name, parent=ctx)
            sub = at.get_command(ctx, args[0]) if args else None
            assert sub is not None, f"{name}: {command} is no hub command"
            at, args = sub, args[1:]
        at.make_context(at.name, args, parent=ctx)  # raises on an unknown option or a bad value


# --- what the hub reads ---------------------------------------------------------------------


def setting_of(variable: str) -> tuple[str, str | None]:
    """(field, department) a HUB_ variable sets; fails for a name the settings do not read."""
    name = variable.removeprefix("HUB_").lower()
    if name.startswith("source_"):
        department, _, field = name.removeprefix("source_").partition("_")
        assert department in DEPARTMENTS and field in SourceSettings.model_fields, f"{variable} is no setting"
        return field, department
    assert name in Settings.model_fields, f"{variable} is no setting of hub/core/settings.py"
    return name, None


def test_every_variable_is_a_setting_the_hub_reads(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, service in hub_services(compose).items():
        environment = service.get("environment") or {}
        assert set(environment) - NOT_HUB_SETTINGS == {v for v in environment if v.startswith("HUB_")}, name
        with monkeypatch.context() as env:
            for key in [k for k in os.environ if k.startswith("HUB_")]:
                env.delenv(key)
            for key, value in environment.items():
                env.setenv(key, str(value))
            settings, default = Settings(), Settings.model_construct()
            for variable in (v for v in environment if v.startswith("HUB_")):
                field, department = setting_of(variable)
                got = getattr(settings.source[department], field) if department else getattr(settings, field)
                assert got is not None and got != getattr(default, field, None), f"{name}: {variable} had no effect"


def test_secrets_are_declared_mounted_and_made_by_make(compose: dict[str, Any], tmp_path: Path) -> None:
    declared = compose["secrets"]
    used = {secret for s in services(compose).values() for secret in s.get("secrets") or []}
    assert used == set(declared), "a secret used but not declared, or declared for nobody"
    for name, service in hub_services(compose).items():
        for variable, value in (service.get("environment") or {}).items():
            if variable.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                assert str(value).removeprefix("/run/secrets/") in (service.get("secrets") or []), f"{name}: {variable}"
    files = {Path(spec["file"]) for spec in declared.values()}
    assert {f.parent for f in files} == {Path("secrets")}, "secret files live in docker/secrets/"
    ignored = subprocess.run(["git", "check-ignore", "-q", "docker/secrets/x"], cwd=ROOT)
    assert ignored.returncode == 0, "docker/secrets/ must be git-ignored"
    subprocess.run(["make", "-s", "docker-secrets", f"SECRETS_DIR={tmp_path / 's'}"], cwd=ROOT, check=True,
                   capture_output=True)
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700
    for file in files:
        made = tmp_path / "s" / file.name
        assert len(made.read_text().strip()) >= 32, f"make docker-secrets does not make {file.name}"  # audit key minimum
        assert stat.S_IMODE(made.stat().st_mode) == 0o644  # readable by the image's user where compose mounts it


def test_bind_mounts_exist_and_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (DOCKER / source).exists(), f"{name}: {source} is missing"
            else:
                assert source in compose["volumes"], f"{name}: volume {source} is not declared"
        for network in service.get("networks") or []:
            assert network in compose["networks"], f"{name}: network {network} is not declared"


def test_only_the_proxy_is_published_and_it_balances_the_replicas(compose: dict[str, Any]) -> None:
    assert [name for name, s in services(compose).items() if s.get("ports")] == ["proxy"]
    nginx = (DOCKER / "nginx.conf").read_text(encoding="utf-8")
    upstream = re.search(r"upstream hub \{(.*?)\}", nginx, re.S)
    assert upstream is not None
    port = re.search(r"HUB_PORT=(\d+)", dockerfile_text())
    assert port is not None
    assert set(re.findall(r"server ([\w-]+:\d+)", upstream.group(1))) == {f"{r}:{port.group(1)}" for r in replicas(compose)}
    assert all("edge" in services(compose)[r]["networks"] for r in replicas(compose))
    assert compose["networks"]["data"] == {"internal": True}  # the databases are reachable from nowhere else
    assert "data" not in services(compose)["proxy"]["networks"]


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if "build" not in service:
            assert PINNED.match(service["image"]), f"{name}: {service['image']} is not pinned to a version"
    bases = re.findall(r"^ARG PYTHON_IMAGE=(\S+)", dockerfile_text(), re.M)
    assert len(bases) == 1 and PINNED.match(bases[0])
    assert {line.split()[1] for line in dockerfile_text().splitlines() if line.startswith("FROM ")} == {"${PYTHON_IMAGE}"}


# --- the image ------------------------------------------------------------------------------


def test_the_image_runs_unprivileged_with_a_health_check_on_a_real_route(compose: dict[str, Any]) -> None:
    from hub.app import create_app

    final = final_stage(dockerfile_text())
    users = [i for i, line in enumerate(final) if line.upper().startswith("USER ")]
    assert users and final[users[-1]].split()[1].split(":")[0] not in ("root", "0"), "the image must not run as root"
    checks = [line for line in final if line.upper().startswith("HEALTHCHECK ")]
    assert len(checks) == 1
    path = re.search(r"http://127\.0\.0\.1:[^/]+(/\w+)", checks[0])
    assert path is not None
    routes = {getattr(route, "path", None) for route in create_app(Settings(), policy=False).routes}
    assert path.group(1) in routes and path.group(1) in ("/healthz", "/readyz")
    assert final[-1] == 'CMD ["hub", "serve"]'


def dockerignore() -> list[str]:
    return [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_the_build_context_leaves_out_what_it_must(compose: dict[str, Any]) -> None:
    for service in hub_services(compose).values():
        context = (DOCKER / service["build"]["context"]).resolve()
        assert context == ROOT and (context / service["build"]["dockerfile"]).is_file()
    ignored = dockerignore()
    for needed in (".git", ".venv", "tests", "demo-data", "var", "docker/secrets", ".env"):
        assert needed in ignored, f".dockerignore does not exclude {needed}"
    assert {"**/node_modules", "**/__pycache__"} <= set(ignored)
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile_text(), re.M)
    for source in (s for line in copied for s in line.split()):
        assert (ROOT / source).exists() and source not in ignored, f"the image needs {source}"


def test_docker_compose_config_accepts_it(tmp_path: Path) -> None:
    """The compose plugin's own validation, where it is installed (not on these machines: the tests above stand)."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("docker compose is not installed")
    secrets = DOCKER / "secrets"
    made = not secrets.exists()
    subprocess.run(["make", "-s", "docker-secrets"], cwd=ROOT, check=True, capture_output=True)
    try:
        run = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    finally:
        if made:
            shutil.rmtree(secrets)
