"""The `hub` command: generate demo data, serve, check sources against their mappings."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli_errors import HubGroup
from hub.core.settings import Settings
from hub.supervision.cli import check_command

app = typer.Typer(cls=HubGroup, help="编制数据共享枢纽 Staffing Hub", no_args_is_help=True, add_completion=False)
sources_app = typer.Typer(help="数据源 / department sources", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.command("check")(check_command)
console = Console(stderr=True)


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"staffing-hub {version('staffing-hub')}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                               help="显示版本 / show the version and exit")] = False,
) -> None:
    pass


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
        transient=True, disable=not console.is_terminal
    )


def run_generate(targets: dict[str, str], persons: int, seed: int, institutions: int | None, manifest: Path) -> dict:
    """Generate the four legacy databases with a progress bar; returns the manifest."""
    from hub.demo.generate import generate

    with _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return generate(
            targets, persons=persons, seed=seed, institutions=institutions, manifest_path=manifest, progress=progress
        )


@app.command("generate")
def generate_cmd(
    out: Annotated[Path | None, typer.Option(help="SQLite 文件、manifest.json 与 jwt-secret 的目录（默认 HUB_DEMO_DIR） / directory for the SQLite files, manifest.json and jwt-secret (default: HUB_DEMO_DIR)")] = None,
    persons: Annotated[int, typer.Option(min=50, help="人数 / number of persons")] = 10_000,
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 1,
    institutions: Annotated[int | None, typer.Option(help="机构数 / number of institutions")] = None,
    url_establishment: Annotated[str | None, typer.Option(help="编办库地址 / establishment DB URL")] = None,
    url_organization: Annotated[str | None, typer.Option(help="组织部库地址 / organization DB URL")] = None,
    url_hr: Annotated[str | None, typer.Option(help="人社库地址 / HR DB URL")] = None,
    url_finance: Annotated[str | None, typer.Option(help="财政库地址 / finance DB URL")] = None,
    skip_existing: Annotated[bool, typer.Option(help="各库已有完整的演示表时不做任何事 / do nothing when every "
                                                "target already holds complete demo tables (a one-shot container's rerun)")] = False,
) -> None:
    """生成四个部门的演示数据库 / Generate the four departments' demo databases.

    The SQLite files and the manifest are written to a temporary folder beside `out` and moved in
    only when everything succeeded; tables made in a given database are dropped if it fails.
    """
    import tempfile

    from hub.core.db import sync_url
    from hub.demo.generate import DEPARTMENTS, demo_targets
    from hub.demo.writer import generated

    out = out or Settings().demo_dir
    given = dict(zip(DEPARTMENTS, (url_establishment, url_organization, url_hr, url_finance), strict=True))
    servers = {d: u for d, u in given.items() if u}
    for url in servers.values():
        sync_url(url).get_dialect()  # a bad URL or unknown dialect fails here, before anything is written
    if skip_existing and generated({**demo_targets(out), **servers}):
        console.print("already generated: every target holds complete demo tables; nothing written")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as staging:
        staged = Path(staging)
        manifest = run_generate({**demo_targets(staged), **servers}, persons, seed, institutions, staged / "manifest.json")
        out.mkdir(exist_ok=True)
        for done in staged.iterdir():
            done.replace(out / done.name)
    ensure_demo_secret(out)
    console.print(f"[green]done[/]: {len(manifest['anomalies'])} planted anomalies, manifest {out / 'manifest.json'}")


def ensure_demo_secret(folder: Path) -> None:
    """Give a demo folder its own HS256 signing secret and audit key (owner-only), unless it has them."""
    import os
    import secrets

    for name in ("jwt-secret", "audit-key"):
        try:
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as secret:
            secret.write(secrets.token_urlsafe(32))


def _serve(settings: Settings) -> None:
    import uvicorn

    from hub.logs import config
    from hub.store.db import at_head, revision

    if not settings.store_auto_upgrade:
        at_head(revision(settings.store_url))  # a store behind: one clear line here, not a traceback per worker

    uvicorn.run(  # applies the logging config here and again in each worker process
        "hub.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=config(settings.log_level),
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址 / host")] = None,
    port: Annotated[int | None, typer.Option(help="端口 / port")] = None,
    workers: Annotated[int | None, typer.Option(help="进程数 / worker processes")] = None,
) -> None:
    """启动枢纽服务 / Serve the hub (sources from HUB_SOURCE_<ID>_URL)."""
    import os

    for key, value in (("HUB_HOST", host), ("HUB_PORT", port), ("HUB_WORKERS", workers)):
        if value is not None:
            os.environ[key] = str(value)  # workers re-read settings from the environment
    _serve(Settings())


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="端口（默认 HUB_PORT） / port (default: HUB_PORT)")] = None,
    persons: Annotated[int, typer.Option(help="首次生成的人数 / persons when generating")] = 10_000,
) -> None:
    """生成（如缺）演示数据并启动 / Generate the demo data if absent, then serve it with GraphiQL."""
    import os

    from hub.demo.generate import DEPARTMENTS, JOINED, join_demo_departments

    if port is not None:
        os.environ["HUB_PORT"] = str(port)  # workers re-read settings from the environment
    os.environ["HUB_CONSOLE_DEMO_USERS"] = "true"  # the console's demo sign-in list
    settings = Settings()
    out = settings.demo_dir
    if not all((out / f"{d}.db").exists() for d in (*DEPARTMENTS, *JOINED)) or not (out / "manifest.json").exists():
        console.print(f"generating demo data in {out} …")
        generate_cmd(out=out, persons=persons, seed=1, institutions=None, url_establishment=None,
                     url_organization=None, url_hr=None, url_finance=None)
    ensure_demo_secret(out)
    join_demo_departments(out)  # the departments the demo joins the integrator's way: their settings
    settings = Settings()  # workers re-read settings from the environment
    from hub.store.db import upgrade

    upgrade(settings.store_url)  # the demo's store is the developer's own: migrated here, not by the app
    from hub.store.snapshots import months as snapshot_months

    if not _with_store(snapshot_months):  # the demo's trends: 24 months back from its reference month
        reference = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["referenceMonth"]
        wanted, written = take_snapshots(settings, reference, 24)
        console.print(f"snapshots {wanted[0]} … {wanted[-1]}: {written} values")
    _demo_tokens(settings)
    console.print(f"[bold]Staffing Hub[/] on http://{settings.host}:{settings.port}/graphql, "
                  f"console http://{settings.host}:{settings.port}/console")
    _serve(settings)


def _demo_tokens(settings: Settings) -> None:
    """Print tokens for a few roles to paste into GraphiQL's token box."""
    from hub.auth import create_token
    from hub.demo.generate import DEMO_USERS

    console.print("令牌（粘贴到 GraphiQL 的令牌框） / Tokens for GraphiQL's token box, valid 12h:")
    for role, department, region in DEMO_USERS:
        token = create_token(settings, department, [role], region, "12h", subject=f"demo-{department or role}")
        console.print(f"  {department or ''}{'.' if department else ''}{role} @ {region}:\n    {token}", soft_wrap=True)


@sources_app.command("check")
def sources_check() -> None:
    """检查每个映射与实际数据库是否相符 / Check each mapping against its live database."""
    from hub.sources_check import check_sources

    results = asyncio.run(check_sources(Settings()))
    table = Table("department", "entity", "rows", "problem")
    for r in results:
        table.add_row(r.department, r.entity, "" if r.rows is None else str(r.rows), r.problem or "[green]ok[/]")
    Console().print(table)
    if any(r.problem for r in results):
        raise typer.Exit(1)


@sources_app.command("list")
def sources_list() -> None:
    """列出数据源及其能力 / List the sources, their URLs and capabilities."""
    from adapters.registry import build_sources

    sources = build_sources(Settings())
    out = {d: {"url": str(getattr(a, "url", "")), "capabilities": a.capabilities.names} for d, a in sources.items()}
    asyncio.run(sources.close())
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


adapter_app = typer.Typer(help="接入部门：映射脚手架与一致性检查 / integrating a department: mapping scaffold, conformance kit",
                          no_args_is_help=True)
app.add_typer(adapter_app, name="adapter")


@adapter_app.command("new")
def adapter_new(
    department: Annotated[str, typer.Argument(help="部门标识（小写字母和数字） / department id (lower-case letters and digits)")],
    url: Annotated[str, typer.Option(help="部门数据库地址（SQLAlchemy URL） / the department database's SQLAlchemy URL")],
    title: Annotated[str | None, typer.Option(help="'中文 / English' 名称 / the department's title")] = None,
    out: Annotated[Path | None, typer.Option(help="写入的映射文件（默认打印） / the mapping file to write (default: print)")] = None,
) -> None:
    """由数据库表结构生成映射草稿 / Scaffold a mapping from a live database's tables and columns."""
    from adapters.scaffold import inspect_tables, scaffold
    from hub.core.departments import Department
    from hub.core.errors import BadUserInput

    try:
        Department(department, department, department, 100)
    except BadUserInput as exc:
        raise typer.BadParameter(exc.message, param_hint="DEPARTMENT") from None
    text = scaffold(department, title or f"{department} / {department}", inspect_tables(url))
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists():
        raise typer.BadParameter(f"{out} 已存在，不覆盖 / {out} exists; not overwritten", param_hint="--out")
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}: review every line marked # TODO review, then `hub sources check` and "
                  f"`hub adapter test --department {department}`")


@adapter_app.command("test")
def adapter_test(
    department: Annotated[str, typer.Option(help="部门标识 / department id")],
    entity: Annotated[list[str] | None, typer.Option(help="只检查这些实体 / only these entities")] = None,
) -> None:
    """对一个已配置的数据源运行一致性检查 / Run the adapter conformance kit against a configured source."""
    import tempfile

    from adapters.conformance import missing_url, run_kit
    from adapters.registry import build_adapter, mapping_files

    settings = Settings()
    files = mapping_files(settings)
    if department not in files:
        raise typer.BadParameter(f"未知部门 {department!r} / unknown department; known: {', '.join(files)}", param_hint="--department")
    mapping = files[department][1]

    async def ping() -> None:  # a source that does not answer is one error line, not a failed check per entity
        adapter = build_adapter(settings, department, mapping)
        try:
            await adapter.ping()
        finally:
            await adapter.close()

    asyncio.run(ping())
    with tempfile.TemporaryDirectory() as nowhere:
        outcomes = asyncio.run(run_kit(lambda: build_adapter(settings, department, mapping),
                                       lambda: build_adapter(settings, department, mapping, missing_url(Path(nowhere))),
                                       list(entity) if entity else None))
    table = Table("entity", "check", "result", "detail", title=f"{department}: adapter conformance")
    for o in outcomes:
        result = "[green]ok[/]" if o.passed else "[dim]n/a[/]" if o.passed is None else "[red]FAIL[/]"
        table.add_row(o.entity, o.check, result, o.detail)
    Console(width=200).print(table)
    failed = [o for o in outcomes if o.passed is False]
    typer.echo(f"{len(outcomes) - len(failed)} passed or not applicable, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


token_app = typer.Typer(help="令牌 / tokens", no_args_is_help=True)
policy_app = typer.Typer(help="访问策略 / access policies", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(policy_app, name="policy")


@token_app.command("create")
def token_create(
    role: Annotated[list[str], typer.Option(help="角色，可多次 / role, repeatable (officer, auditor, analyst, admin)")],
    department: Annotated[str | None, typer.Option(help="部门 / department id")] = None,
    region: Annotated[str, typer.Option(help="行政区划范围 / region scope")] = "152900",
    ttl: Annotated[str, typer.Option(help="有效期 / time to live, e.g. 30m, 8h, 7d")] = "8h",
    subject: Annotated[str | None, typer.Option(help="用户标识 / subject")] = None,
) -> None:
    """签发令牌（只输出令牌） / Create a bearer token; prints only the token."""
    from hub.auth import create_token

    typer.echo(create_token(Settings(), department, role, region, ttl, subject))


def _policy_book():  # type: ignore[no-untyped-def]
    from policies.grants import POLICY_PATH, PolicyBook, new_enforcer
    from schema import build_schema, schema_fields

    settings = Settings()
    schema = build_schema(settings)
    return PolicyBook(new_enforcer(settings.policy_file or POLICY_PATH), schema_fields(schema), schema.maskable)


@policy_app.command("check")
def policy_check() -> None:
    """检查策略 / Check the policies against the schema."""
    from adapters.registry import load_departments
    from policies.check import check_policy

    book = _policy_book()
    problems = check_policy(book.enforcer, book.fields, book.maskable, departments=load_departments(Settings()).ids)
    for p in problems:
        typer.echo(p)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"ok: {len(book.enforcer.get_policy())} rules, {len(book.fields)} fields")


@policy_app.command("explain")
def policy_explain(
    target: Annotated[str, typer.Argument(help="Type.field")],
    role: Annotated[str, typer.Option(help="策略主体，如 finance.officer / policy subject")],
) -> None:
    """解释某角色对字段的访问 / Explain which rule decides a role's access to a field."""
    from hub.core.errors import BadUserInput
    from policies.access import Access

    book = _policy_book()
    type_name, _, field = target.partition(".")
    if (type_name, field) not in book.fields:
        raise BadUserInput(f"未知字段 {target!r} / unknown field; expected Type.field, e.g. Person.name")
    known = {name for rule in book.enforcer.get_grouping_policy() for name in rule[:2]}
    known |= set(book.enforcer.get_all_subjects())
    if role not in known:
        raise BadUserInput(f"未知策略主体 {role!r} / unknown policy subject; known: {', '.join(sorted(known))}")
    access, rule = book.explain(role, type_name, field)
    typer.echo(f"{role} {target}: {access.name.lower()}" + (f"  (rule: {', '.join(rule)})" if rule else "  (no rule allows it)"))
    compiled = book.grants([role])
    if compiled.access(type_name, field) < access:
        sources = [".".join(masked) for d in book.derivations for masked, derived in d.edges()
                   if derived == (type_name, field) and compiled.access(*masked) is Access.MASK]
        typer.echo(f"  -> {compiled.access(type_name, field).name.lower()}: 推导表收窄 / narrowed by policies/derivations.csv "
                   f"(reveals masked {', '.join(sources)})")


db_app = typer.Typer(help="枢纽库 / the hub store", no_args_is_help=True)
schema_app = typer.Typer(help="模式 / the GraphQL schema", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(schema_app, name="schema")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """将枢纽库迁移到最新版本 / Migrate the hub store (HUB_STORE_URL) to the latest revision."""
    from hub.store.db import head, upgrade

    upgrade(Settings().store_url)
    typer.echo(f"ok: at {head()}")


@db_app.command("current")
def db_current() -> None:
    """显示枢纽库版本 / Show the hub store's revision and the latest one; exit 1 when behind."""
    from hub.store.db import head, revision

    at, latest = revision(Settings().store_url), head()
    typer.echo(f"{at or '(empty)'} (head {latest})")
    if at != latest:
        raise typer.Exit(1)


@schema_app.command("export")
def schema_export(
    out: Annotated[Path | None, typer.Option(help="输出文件（默认 schema/schema.graphql） / output file (default: schema/schema.graphql)")] = None,
) -> None:
    """导出 SDL 以供评审 / Write the schema's SDL (commit it; a test fails while it differs from the code)."""
    from schema.sdl import SDL_PATH, sdl

    target = out or SDL_PATH
    target.write_text(sdl(), encoding="utf-8")
    typer.echo(f"wrote {target}")


audit_app = typer.Typer(help="审计日志 / audit log", no_args_is_help=True)
apikey_app = typer.Typer(help="API 密钥 / API keys", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(apikey_app, name="apikey")


def _with_store(work):  # type: ignore[no-untyped-def]
    """Run `work(store)` against the configured hub store, closing it after."""
    from hub.store.db import open_store

    async def run():  # type: ignore[no-untyped-def]
        store = await open_store(Settings().store_url)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[list[Path] | None, typer.Option(help="检查点文件，可多次（每台主机一份） / checkpoint file, repeatable (one per host); default HUB_AUDIT_CHECKPOINT_FILE")] = None,
) -> None:
    """校验审计日志的密钥哈希链与检查点 / Verify the audit log's keyed chain against its checkpoints; exit 1 naming the problem."""
    from hub.core.errors import BadUserInput
    from hub.store.audit import verify

    settings = Settings()
    key = settings.audit_secret()  # a key too short: BadUserInput, one line and exit 2 (hub/cli_errors.py)
    if key is None:
        raise BadUserInput("未配置审计密钥 / no audit key: set HUB_AUDIT_KEY or HUB_AUDIT_KEY_FILE")
    files = checkpoint or [settings.audit_checkpoints()]
    verdict = _with_store(lambda store: verify(store, key, files))
    if verdict.reason is None:
        typer.echo(f"ok: {verdict.checked} entries, chain intact, checkpointed up to entry {verdict.checkpointed}")
        return
    if verdict.broken_id is None:
        typer.echo(f"broken: {verdict.reason}")
    else:
        typer.echo(f"broken at entry {verdict.broken_id}: {verdict.reason} (after {verdict.checked} good entries)")
    raise typer.Exit(1)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="用途名称 / what the key is for")],
    role: Annotated[list[str], typer.Option(help="角色，可多次 / role, repeatable")],
    department: Annotated[str | None, typer.Option(help="部门 / department id")] = None,
    region: Annotated[str, typer.Option(help="行政区划范围 / region scope")] = "152900",
) -> None:
    """创建 API 密钥（仅显示一次） / Create an API key; the key is shown once."""
    from adapters.registry import load_departments
    from hub.apikeys import create_key

    departments = load_departments(Settings()).ids
    issued = _with_store(lambda store: create_key(store, name, department, role, region, "cli", departments))
    typer.echo(issued.key)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="密钥编号 / key id")]) -> None:
    """吊销 API 密钥 / Revoke an API key."""
    from hub.apikeys import revoke_key

    _with_store(lambda store: revoke_key(store, key_id))
    typer.echo(f"revoked {key_id}")


@apikey_app.command("list")
def apikey_list() -> None:
    """列出 API 密钥（不含密钥本身） / List API keys (never their secrets)."""
    from hub.apikeys import list_keys

    keys = _with_store(list_keys)
    typer.echo(json.dumps(keys, ensure_ascii=False, indent=2, default=str))


documents_app = typer.Typer(help="可信文档（持久化查询） / trusted documents (persisted queries)", no_args_is_help=True)
app.add_typer(documents_app, name="documents")


def _hash_argument(value: str) -> str:
    from hub.core.errors import BadUserInput

    if not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise BadUserInput(f"哈希须为 64 位十六进制 / a hash is 64 hexadecimal digits: {value[:80]!r}")
    return value.lower()


@documents_app.command("add")
def documents_add(
    files: Annotated[list[Path], typer.Argument(help=".graphql 文件（整个文件为一个文档）或 JSON 清单（Apollo 清单、{哈希: 文档}） / "
                                                      ".graphql files (each one document) or JSON manifests (Apollo's, {hash: document})")],
) -> None:
    """登记文档：先全部按模式校验，任一无效则不登记 / Register documents; all are checked against the schema first, none is stored if one fails."""
    from hub.store import documents
    from hub.trusted import read_documents
    from schema import build_schema

    settings = Settings()
    found = read_documents(files, build_schema(settings)._schema, settings.max_depth, settings.max_query_chars)
    added = {d.sha256 for d in _with_store(lambda store: documents.add(store, found))}
    for d in found:
        state = "added" if d.sha256 in added else "known"
        typer.echo(f"{state} {d.sha256}  {','.join(o or '(anonymous)' for o in d.operations)}  {d.source}")
    typer.echo(f"ok: {len(added)} added, {len(found) - len(added)} registered already")


@documents_app.command("list")
def documents_list() -> None:
    """列出已登记文档（哈希、操作、来源） / List registered documents: hash, operations, where from."""
    from hub.store import documents

    typer.echo(json.dumps(_with_store(documents.listing), ensure_ascii=False, indent=2, default=str))


@documents_app.command("remove")
def documents_remove(sha256: Annotated[str, typer.Argument(help="文档的 SHA-256 / the document's SHA-256")]) -> None:
    """注销文档（各副本在缓存时间内停止接受） / Unregister a document (replicas stop accepting it within HUB_TRUSTED_DOCUMENTS_CACHE_SECONDS)."""
    from hub.store import documents

    digest = _hash_argument(sha256)
    _with_store(lambda store: documents.remove(store, digest))
    typer.echo(f"removed {digest}")


def take_snapshots(settings: Settings, last: str, months: int) -> tuple[list[str], int]:
    """Compute and store the snapshots of `months` months ending with `last`; (the months, values written)."""
    from adapters.registry import build_sources
    from hub.core.crosswalk import CrosswalkCache
    from resolvers.trends import check_month, months_back, take

    check_month(last, "month")
    wanted = months_back(last, months)

    async def work(store):  # type: ignore[no-untyped-def]
        sources = build_sources(settings)
        try:
            return await take(sources, await CrosswalkCache(sources).get(), store, wanted)
        finally:
            await sources.close()

    return wanted, _with_store(work)


@app.command()
def snapshot(
    month: Annotated[str | None, typer.Option(help="月份 YYYY-MM（默认本月） / month (default: this month)")] = None,
    backfill: Annotated[int, typer.Option(min=1, max=240, help="回填的月数（截至该月） / months to take, ending with it")] = 1,
) -> None:
    """记录关键指标的月度快照 / Take the monthly snapshot of the key figures (again: replaces that month)."""
    import datetime as dt

    wanted, written = take_snapshots(Settings(), month or dt.date.today().strftime("%Y-%m"), backfill)
    typer.echo(f"snapshots {wanted[0]} … {wanted[-1]}: {written} values")


report_app = typer.Typer(help="保存的报表 / saved reports", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("list")
def report_list() -> None:
    """列出保存的报表 / List the saved reports: name, owner department, description."""
    from hub.store import reports

    for r in _with_store(reports.listing):
        typer.echo(f"{r.name}\t{r.owner_department or '-'}\t{r.description}")


@report_app.command("export")
def report_export(
    name: Annotated[str, typer.Argument(help="报表名 / report name")],
    format: Annotated[str, typer.Option("--format", help="csv 或 xlsx / csv or xlsx")] = "xlsx",
    out: Annotated[Path | None, typer.Option(help="输出文件（默认 NAME.FORMAT） / output file (default: NAME.FORMAT)")] = None,
    var: Annotated[list[str] | None, typer.Option(help="变量 名=值，可重复 / a variable name=value, repeatable")] = None,
    role: Annotated[str, typer.Option(help="以此角色运行（其权限、脱敏） / run as this role (its grants and masks)")] = "admin",
    department: Annotated[str | None, typer.Option(help="部门（officer 角色） / department (officer role)")] = None,
    region: Annotated[str, typer.Option(help="行政区划范围 / region scope")] = "152900",
) -> None:
    """导出保存的报表为 CSV 或 XLSX（与 GET /export 相同：权限、脱敏、范围、审计） / Export a saved report as
    GET /export does (grants, masks, row scope, audit)."""
    import shutil

    from hub.app import create_app
    from hub.core.principal import Principal
    from hub.export import export

    params = dict(v.split("=", 1) for v in var or [] if "=" in v)
    target = out or Path(f"{name}.{format}")
    settings = Settings()

    async def work() -> int:
        app_ = create_app(settings)
        async with app_.router.lifespan_context(app_) as state:
            assert state is not None  # the hub's lifespan yields its state
            principal = Principal(f"cli:{role}", department, (role,), region, via="cli")
            file, rows = await export(state["exports"], state["hub"].store, state["schema"]._schema, principal, name, format,
                                      params, settings.export_page_rows, settings.export_max_rows)
            with file, target.open("wb") as f:
                shutil.copyfileobj(file, f)
            return rows

    rows = asyncio.run(work())
    typer.echo(f"{target}: {rows} rows")
