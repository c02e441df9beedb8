"""restock's command line: parse, call one service, show the result.

Exit codes: 0 done, 1 a check found problems, 2 bad input.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import webbrowser
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from restock import services as s
from restock.cli import report
from restock.clock import FixedClock, SystemClock
from restock.demo import DemoShop
from restock.errors import InvalidInput, RestockError
from restock.planning.history import read_history
from restock.shop import Shop

app = typer.Typer(help="restock: backorders with honest ship dates.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()

DatabaseUrl = Annotated[str | None, typer.Option("--database-url", envvar="RESTOCK_DATABASE_URL",
                                                 help="Default: SQLite file restock.db here.")]


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="The demo's SQLite file; made anew.")] = Path("restock-demo.db"),
    days: Annotated[int, typer.Option(min=7, max=120, help="How many days to simulate.")] = 28,
    seed: Annotated[int, typer.Option(help="Same seed, same shop.")] = 7,
    serve_after: Annotated[bool, typer.Option("--serve", help="Then serve the dashboard on the demo shop.")] = False,
    port: Annotated[int, typer.Option(help="The port for --serve.")] = 8000,
) -> None:
    """Run a demo shop for a few weeks, ending today, and report what happened."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    clock = FixedClock()
    clock.set_today(SystemClock(os.environ.get("RESTOCK_TIMEZONE", "UTC")).today() - timedelta(days=days))
    shop = Shop.open(f"sqlite:///{db}", clock)
    with Progress(TextColumn("[bold]Running Kettle & Clay[/] day"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("days", total=days)
        run = DemoShop(shop, clock, seed).run(days, lambda n: progress.update(task, completed=n))
    report.demo(console, shop, run)
    console.print(f"\nThe demo shop is in [bold]{db}[/]. Look again with: "
                  f"[bold]RESTOCK_DATABASE_URL=sqlite:///{db} restock check[/]")
    if not serve_after:
        console.print("See it in the operations dashboard: [bold]restock demo --serve[/]")
        shop.close()
        return
    key = s.create_key(shop, "admin", "demo")["key"]
    shop.close()
    url = f"http://127.0.0.1:{port}/dashboard"
    console.print(f"\nThe dashboard: [bold]{url}[/]\nLog in with this admin key: [bold]{key}[/]\n"
                  "(Ctrl+C stops the server.)")
    if sys.stdin.isatty() and typer.confirm("Open the dashboard in your browser?", default=True):
        threading.Timer(1.5, webbrowser.open, [url]).start()
    os.environ["RESTOCK_DISPATCH"] = "off"  # the demo's customers have no mailbox
    _serve("127.0.0.1", port, 1, 4, False, f"sqlite:///{db}")


@app.command()
def check(
    database_url: DatabaseUrl = None,
    repair: Annotated[bool, typer.Option(help="Rewrite stock balances from the ledger.")] = False,
) -> None:
    """Replay the stock ledger and compare it with every balance kept."""
    shop = Shop.open(database_url)
    try:
        if repair:
            console.print(f"Rebuilt {s.rebuild_balances(shop)} stock rows from the ledger.")
        result = s.check_ledger(shop)
    finally:
        shop.close()
    report.ledger(console, result)
    raise typer.Exit(0 if result["ok"] else 1)


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the database schema."""
    Shop.open(database_url).close()
    console.print("The schema is up to date.")


imports = typer.Typer(help="Load data from files.", no_args_is_help=True)
app.add_typer(imports, name="import")


@imports.command("history")
def import_history(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV or .csv.gz: date, sku, qty[, order_id]; or UCI Online Retail.")],
    source: Annotated[str | None, typer.Option(help="Name of this history; a re-import replaces it.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Load past demand for planning; cancellations and non-product codes are left out and counted."""
    size = file.stat().st_size
    with Progress(TextColumn(f"[bold]Reading {file.name}[/]"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("read", total=size)
        try:
            history = read_history(file, lambda done: progress.update(task, completed=done))
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    shop = Shop.open(database_url)
    try:
        stored = s.store_history(shop, source or file.name, history)
    finally:
        shop.close()
    report.history(console, stored)


@app.command()
def plan(
    database_url: DatabaseUrl = None,
    service_level: Annotated[float, typer.Option(min=0.5, max=0.999, help="Target cycle service level.")] = 0.95,
    fill_rate: Annotated[float | None, typer.Option(min=0.5, max=0.999,
                                                    help="Size safety stock for this fill rate instead.")] = None,
    review_days: Annotated[int, typer.Option(min=0, max=365, help="Order up to a level every N days (0: at a "
                                                                  "reorder point).")] = 0,
    horizon_days: Annotated[int, typer.Option(min=1, max=365, help="Forecast horizon.")] = 28,
    order_cost: Annotated[float | None, typer.Option(min=0, help="Cost of one PO line (RESTOCK_ORDER_COST).")]
    = None,
    holding_rate: Annotated[float | None, typer.Option(min=0.001, help="Yearly holding cost as a share of unit "
                                                                       "cost (RESTOCK_HOLDING_RATE).")] = None,
    sku: Annotated[list[str] | None, typer.Option(help="Plan only these SKUs (repeat the option).")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write every suggestion to this CSV file.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the whole plan to this JSON file.")] = None,
    approve: Annotated[bool, typer.Option(help="Make the suggested purchase orders at once.")] = False,
    engine: Annotated[str, typer.Option(help="local, or dask: forecast on a Dask cluster.")] = "local",
    dask_scheduler: Annotated[str | None, typer.Option(help="A Dask scheduler's address (default: a local "
                                                            "cluster of one worker per core).")] = None,
) -> None:
    """Forecast every SKU, size safety stock and reorder points, and suggest what to buy from whom."""
    if engine not in ("local", "dask"):
        raise InvalidInput("--engine must be local or dask")
    shop = Shop.open(database_url)
    with _dask(dask_scheduler) if engine == "dask" else contextlib.nullcontext():
        try:
            costs = {k: v for k, v in (("order_cost", order_cost), ("holding_rate", holding_rate)) if v is not None}
            _plan(shop, service_level, horizon_days, sku, fill_rate, review_days, costs, csv_file, json_file,
                  approve, engine)
        finally:
            shop.close()


@contextlib.contextmanager
def _dask(address: str | None) -> Iterator[None]:
    from dask.distributed import Client, LocalCluster

    # dask's own functions carry no type hints
    cluster = None if address else LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=os.cpu_count() or 1, threads_per_worker=1, dashboard_address=None)
    client = Client(address or cluster)  # type: ignore[no-untyped-call]
    console.print(f"Forecasting on Dask: {client.scheduler_info()['address']}, "
                  f"{len(client.scheduler_info()['workers'])} workers")
    try:
        yield
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


def _plan(shop: Shop, service_level: float, horizon_days: int, sku: list[str] | None, fill_rate: float | None,
          review_days: int, costs: dict[str, float], csv_file: Path | None, json_file: Path | None, approve: bool,
          engine: str) -> None:
    plan_id = s.create_plan(shop, service_level, horizon_days, sku or None, fill_rate, review_days, **costs)["id"]
    with Progress(TextColumn("[bold]Planning[/] {task.fields[stage]}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("plan", total=1.0, stage="")
        done = s.run_plan(shop, plan_id,
                          lambda stage, share: progress.update(task, completed=share, stage=stage),
                          engine=engine)
    report.plan(console, done)
    if csv_file:
        report.plan_csv(csv_file, done)
    if json_file:
        json_file.write_text(json.dumps(done, indent=1, default=str))
    if approve:
        made = s.approve_plan(shop, plan_id)
        console.print(f"Made {len(made['purchase_orders'])} purchase orders: "
                      + ", ".join(po["id"] for po in made["purchase_orders"]))


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="Demand history: date, sku, qty[, order_id]; or UCI Online Retail.")],
    skus: Annotated[int, typer.Option(min=1, max=100_000, help="Simulate the N SKUs with most demand.")] = 50,
    days: Annotated[int | None, typer.Option(min=7, help="Simulated days (default: all after the warm-up).")] = None,
    warmup_days: Annotated[int, typer.Option(min=0, help="Days of history known before the simulation.")] = 90,
    lead_time_days: Annotated[int, typer.Option(min=1, max=365)] = 14,
    lead_time_sd_days: Annotated[float, typer.Option(min=0, max=365)] = 3.0,
    unit_cost: Annotated[float, typer.Option(min=0.01)] = 1.0,
    moq: Annotated[int, typer.Option(min=1)] = 1,
    delay_probability: Annotated[float, typer.Option(min=0, max=1, help="Chance a PO arrives 3-10 days late.")] = 0.1,
    reorder_point: Annotated[int | None, typer.Option(help="Also simulate a fixed reorder point for every SKU.")]
    = None,
    reorder_points: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Also simulate the "
                                                        "fixed reorder points of this CSV file: sku, reorder_point.")]
    = None,
    seed: Annotated[int, typer.Option(help="Same seed, same result.")] = 1,
    chart_file: Annotated[Path, typer.Option("--chart", help="Where to draw the comparison (PNG).")]
    = Path("simulation.png"),
    check_every_day: Annotated[bool, typer.Option(help="Check the stock ledger after every simulated day.")]
    = False,
) -> None:
    """Replay a demand history through the real engine under several replenishment policies, side by side."""
    from restock.planning.simulate import Policy, SimSku, as_rows, chart, simulate

    fixed_points = _reorder_points(reorder_points) if reorder_points is not None else None
    try:
        history = read_history(file)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    series, first = history.series(top=skus)
    if min(len(y) for y in series.values()) <= warmup_days:
        raise InvalidInput(f"the history spans {min(len(y) for y in series.values())} days: "
                           f"it must be longer than the warm-up ({warmup_days} days)")
    if days is not None:
        series = {k: y[:warmup_days + days] for k, y in series.items()}
    items = {k: SimSku(k, unit_cost, lead_time_days, lead_time_sd_days, moq) for k in series}
    policies = [Policy("restock", "restock"), Policy("min/max", "minmax")]
    if reorder_point is not None:
        policies.append(Policy(f"fixed {reorder_point}", "fixed", reorder_points=dict.fromkeys(series, reorder_point)))
    if fixed_points is not None and reorder_points is not None:
        policies.append(Policy(f"fixed ({reorder_points.name})", "fixed", reorder_points=fixed_points))
    with Progress(TextColumn("[bold]Simulating[/] {task.fields[policy]}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("simulate", total=len(policies), policy="")
        results = simulate(series, items, policies, start=first + timedelta(days=warmup_days),
                           warmup_days=warmup_days, seed=seed, delay_probability=delay_probability,
                           check_every_day=check_every_day,
                           progress=lambda name, done, total: progress.update(
                               task, completed=policies.index(next(p for p in policies if p.name == name))
                               + done / total, policy=f"{name} day {done}/{total}"))
    report.simulation(console, as_rows(results), len(series), len(results[0].days))
    chart(results, chart_file)
    console.print(f"Chart: [bold]{chart_file}[/]")


def _reorder_points(path: Path) -> dict[str, int]:
    import csv

    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        if not reader.fieldnames or not {"sku", "reorder_point"} <= set(reader.fieldnames):
            raise InvalidInput(f"{path.name} needs the columns sku and reorder_point")
        try:
            return {row["sku"]: int(row["reorder_point"]) for row in reader}
        except (TypeError, ValueError):
            raise InvalidInput(f"{path.name}: reorder_point must be a whole number on every line") from None


@app.command()
def dispatch(
    database_url: DatabaseUrl = None,
    once: Annotated[bool, typer.Option(help="Deliver what is due now, then stop.")] = False,
) -> None:
    """Deliver events to webhooks and as customer emails (RESTOCK_SMTP_URL), at least once.
    `restock serve` runs one too; several may run side by side."""
    import signal

    from restock.notify.dispatcher import Dispatcher

    shop = Shop.open(database_url)
    dispatcher = Dispatcher(shop)
    try:
        if once:
            s.sweep_overdue(shop)
            with console.status("Delivering…"):
                done = dispatcher.drain()
            report.deliveries(console, done, s.delivery_figures(shop))
            return
        signal.signal(signal.SIGTERM, lambda *_: dispatcher.request_stop())
        console.print("Delivering events; Ctrl-C stops.")
        with contextlib.suppress(KeyboardInterrupt):
            dispatcher.run()
    finally:
        dispatcher.stop()
        shop.close()


events = typer.Typer(help="The event outbox and its deliveries.", no_args_is_help=True)
app.add_typer(events, name="events")


@events.command("status")
def events_status(database_url: DatabaseUrl = None) -> None:
    """Deliveries by status, and the dead letters."""
    shop = Shop.open(database_url)
    try:
        report.dead_letters(console, s.delivery_figures(shop), s.list_deliveries(shop, "dead")["deliveries"])
    finally:
        shop.close()


@events.command("retry")
def events_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Delivery ids; all dead ones when none given.")] = None,
    target: Annotated[str | None, typer.Option(help="Only this target: webhook:<name> or email.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Make dead deliveries due again (the dispatcher sends them on its next round)."""
    shop = Shop.open(database_url)
    try:
        n = s.retry_deliveries(shop, ids or None, target)
    finally:
        shop.close()
    console.print(f"{n} dead {'delivery' if n == 1 else 'deliveries'} due again.")


@events.command("prune")
def events_prune(
    older_than_days: Annotated[int, typer.Option(min=1, max=3650)] = 30,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete deliveries done, and Idempotency-Key answers kept, more than N days ago."""
    shop = Shop.open(database_url)
    try:
        gone = s.prune(shop, older_than_days)
    finally:
        shop.close()
    console.print(f"Deleted {gone['deliveries']:,} done deliveries and {gone['idempotency_keys']:,} "
                  f"Idempotency-Key answers older than {older_than_days} days.")


keys = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys, name="keys")


@keys.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, storefront or viewer.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Make an API key; it is printed once, alone on the last line, and stored only hashed."""
    shop = Shop.open(database_url)
    try:
        made = s.create_key(shop, role, name)
    finally:
        shop.close()
    console.print(f"A {made['role']} key ({made['name']}). Keep it: it is not shown again.")
    print(made["key"])


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="RESTOCK_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="RESTOCK_PORT")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, envvar="RESTOCK_WORKERS")] = 1,
    threads: Annotated[int, typer.Option(min=1, max=256, envvar="RESTOCK_THREADS",
                                         help="Database threads per worker.")] = 4,
    access_log: Annotated[bool, typer.Option(envvar="RESTOCK_ACCESS_LOG",
                                             help="Log every request (costs throughput).")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (API.md) and the dashboard (/dashboard); the schema is created or migrated first."""
    _serve(host, port, workers, threads, access_log, database_url)


def _serve(host: str, port: int, workers: int, threads: int, access_log: bool, database_url: str | None) -> None:
    import uvicorn

    if database_url:
        os.environ["RESTOCK_DATABASE_URL"] = database_url
    os.environ["RESTOCK_THREADS"] = str(threads)
    from restock.notify.dispatcher import DispatchSettings

    DispatchSettings.from_env()  # a malformed setting stops here with its name, not in a worker
    Shop.open().close()
    uvicorn.run("restock.api:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info", access_log=access_log)


def main() -> None:
    try:
        app()
    except RestockError as error:
        console.print(f"[red]{error.message}[/]")
        raise SystemExit(2) from None
