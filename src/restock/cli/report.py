"""What the CLI shows: the demo's report and the ledger check, with rich."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from restock import services as s
from restock.demo import DemoRun
from restock.shop import Shop

BARS = " ▁▂▃▄▅▆▇█"


def demo(console: Console, shop: Shop, run: DemoRun) -> None:
    today = shop.clock.today()
    console.print(Panel.fit(
        f"[bold]Kettle & Clay[/], a tea-and-ceramics web shop, run through restock from "
        f"{run.start:%d %b} to {run.end:%d %b %Y}: {sum(d.orders for d in run.days)} orders, "
        f"{run.pos_created} purchase orders, {len(s.list_skus(shop, limit=500)['skus'])} SKUs.",
        title="restock demo"))
    console.print(_days_chart(run))
    console.print(_happenings(run))
    console.print(_moves(shop))
    console.print(_queue(shop, today))
    console.print(_kpis(shop, run))
    ledger(console, s.check_ledger(shop))


def _days_chart(run: DemoRun) -> Panel:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("day", "orders", "backordered", "refused", "shipped"):
        table.add_column(column, justify="right")
    table.add_column("open backorders", no_wrap=True)
    peak = max((d.open_backorders for d in run.days), default=1) or 1
    for d in run.days:
        bar = "█" * round(20 * d.open_backorders / peak)
        table.add_row(f"{d.day:%a %d %b}", str(d.orders), str(d.backordered_lines), str(d.refused_lines),
                      str(d.shipped), f"[magenta]{bar}[/] {d.open_backorders}")
    spark = "".join(BARS[min(8, round(8 * d.backordered_lines / max(1, d.lines)))] for d in run.days)
    caption = Text(f"share of lines backordered, day by day: {spark}", style="dim")
    return Panel(Group(table, caption), title="Day by day")


def _happenings(run: DemoRun) -> Panel:
    lines = [f"[dim]{day:%d %b}[/]  {what}" for day, what in run.happenings[:14]]
    if len(run.happenings) > 14:
        lines.append(f"[dim]… and {len(run.happenings) - 14} more[/]")
    return Panel("\n".join(lines) or "Nothing out of the ordinary.", title="What happened")


def _moves(shop: Shop) -> Panel:
    table = Table(box=None, header_style="bold")
    for column in ("cause", "later", "earlier", "avg days", "for example"):
        table.add_column(column)
    for m in s.promise_moves(shop):
        ex = m["examples"][0]
        table.add_row(m["cause"].replace("_", " "), str(m["delayed"]), str(m["advanced"]), str(m["average_days"]),
                      f"{ex['order']} {ex['sku']}: {_d(ex['from'])} → {_d(ex['to'])}")
    return Panel(table, title="What moved and why (every move told the customer)")


def _queue(shop: Shop, today: date) -> Panel:
    waiting = _all_backorders(shop)
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for b in waiting:
        by_sku.setdefault(b["sku"], []).append(b)
    table = Table(box=None, header_style="bold")
    for column in ("sku", "lines", "units", "first ships", "last ships", "waits for"):
        table.add_column(column, no_wrap=column != "waits for")
    for sku, lines in sorted(by_sku.items(), key=lambda item: -sum(b["qty"] for b in item[1])):
        pos = sorted({(p["eta"], p["po"]) for b in lines for p in b["pegged_to"]})
        waits = ", ".join(f"{po} due {_d(eta)}" for eta, po in pos[:3]) + (" …" if len(pos) > 3 else "")
        if any(b["estimated"] for b in lines):
            waits = (waits + ", " if waits else "") + "[yellow]lead time (estimate)[/]"
        dates = sorted(b["promised_date"] for b in lines)
        table.add_row(sku, str(len(lines)), str(sum(b["qty"] for b in lines)), _ahead(dates[0], today),
                      _ahead(dates[-1], today), waits)
    return Panel(table, title=f"Who waits for what: {len(waiting)} backordered lines, in {len(by_sku)} SKUs")


def _all_backorders(shop: Shop) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = s.list_backorders(shop, cursor=cursor, limit=1000)
        found += page["backorders"]
        if not (cursor := page["next"]):
            return found


def _ahead(iso: str, today: date) -> str:
    days = (date.fromisoformat(iso) - today).days
    return f"{_d(iso)} ({days:+d} d)"


def _kpis(shop: Shop, run: DemoRun) -> Panel:
    k = s.kpis(shop, run.start.isoformat(), run.end.isoformat())
    ages = ", ".join(f"{age} d: {n}" for age, n in k["backorder_age_days"].items())
    refused = ", ".join(f"{why.replace('_', ' ')}: {n}" for why, n in run.refused.most_common()) or "none"
    rows = [
        ("backorder rate", _pct(k["backorder_rate"]), "lines with a unit backordered at placement"),
        ("fill rate", _pct(k["fill_rate"]), "units allocated from stock at placement"),
        ("promises kept", _pct(k["promises_kept"]),
         f"of {k['lines_shipped']} lines shipped, on or before the first date"),
        ("open backorders", str(k["open_backorders"]), f"{k['open_backorder_units']} units; age {ages}"),
        ("delay notices", f"{k['delay_notices_per_backordered_line']}", "per backordered line"),
        ("backorders cancelled", str(k["backorders_cancelled"]), ""),
        ("shipments", str(k["shipments"]["shipped"]),
         f"left; {k['shipments']['orders_split']} orders in more than one parcel; "
         f"{k['shipments']['ready']} ready to pick, {k['shipments']['held_for_release']} held for a release day"),
        ("lines refused", str(sum(run.refused.values())), refused),
    ]
    table = Table(box=None, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(style="dim")
    for row in rows:
        table.add_row(*row)
    return Panel(table, title="KPIs")


def ledger(console: Console, result: dict[str, Any]) -> None:
    if result["ok"]:
        console.print(f"[green]Ledger check: clean.[/] {result['movements']} movements replayed over "
                      f"{result['skus']} stock rows agree with every balance.")
        return
    table = Table(title=f"Ledger check: {len(result['problems'])} problems", header_style="bold red")
    for column in ("check", "where", "expected", "found"):
        table.add_column(column)
    for p in result["problems"][:50]:
        table.add_row(p["check"], p["key"], str(p["expected"]), str(p["found"]))
    console.print(table)


def _d(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d %b}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def history(console: Console, stored: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("source", stored["source"])
    table.add_row("rows read", f"{stored['rows_read']:,}")
    table.add_row("kept", f"{stored['units']:,} units of {stored['skus']:,} SKUs on {stored['sku_days']:,} SKU-days, "
                          f"{stored['first_day']} to {stored['last_day']}")
    for why, n in sorted(stored["skipped"].items()):
        table.add_row("left out", f"{n:,} rows: {why}")
    console.print(Panel(table, title="Demand history imported"))
    for line in stored["bad_lines"]:
        console.print(f"[yellow]{line}[/]")


def deliveries(console: Console, attempted: int, figures: dict[str, int]) -> None:
    console.print(f"Attempted {attempted:,} deliveries.")
    _delivery_figures(console, figures)


def _delivery_figures(console: Console, figures: dict[str, int]) -> None:
    console.print(f"Deliveries: {figures['done']:,} done, {figures['pending']:,} pending, {figures['dead']:,} dead; "
                  f"{figures['events_waiting']:,} events not yet fanned out.")


def dead_letters(console: Console, figures: dict[str, int], dead: list[dict[str, Any]]) -> None:
    _delivery_figures(console, figures)
    if not dead:
        return
    table = Table(title="Dead letters (restock events retry [ID…] sends them again)", header_style="bold red")
    for column in ("id", "target", "key", "events", "attempts", "last error"):
        table.add_column(column)
    for d in dead[:50]:
        table.add_row(str(d["id"]), d["target"], d["key"], ",".join(map(str, d["events"])), str(d["attempts"]),
                      d["last_error"] or "")
    console.print(table)


ACTION_STYLE = {"order": "bold green", "expedite": "bold magenta", "overstock": "yellow", "dead_stock": "red",
                "none": "dim"}
PLAN_COLUMNS = ("sku", "demand_class", "method", "forecast_daily", "sd_daily", "baseline_sd_daily",
                "lead_time_days", "lead_time_sd_days", "safety_stock", "reorder_point", "inventory_position",
                "order_qty", "supplier", "unit_cost", "supplier_receipts", "supplier_on_time", "action", "reason",
                "alerts")


def plan(console: Console, done: dict[str, Any]) -> None:
    rows = done["suggestions"]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["action"]] = counts.get(r["action"], 0) + 1
    console.print(f"Plan [bold]{done['id']}[/]: {len(rows):,} SKUs at service level "
                  f"{done['settings']['service_level']:.0%}; " +
                  ", ".join(f"[{ACTION_STYLE[a]}]{n:,} {a}[/]" for a, n in sorted(counts.items())))
    table = Table(title="What to do (orders and expedites first)", header_style="bold")
    for column in ("SKU", "class", "method", "per day", "safety", "reorder at", "position", "order", "from",
                   "action", "why"):
        table.add_column(column, justify="right" if column in ("per day", "safety", "reorder at", "position",
                                                                "order") else "left")
    urgent = sorted(rows, key=lambda r: (["expedite", "order", "dead_stock", "overstock", "none"]
                                         .index(r["action"]), r["sku"]))
    for r in urgent[:40]:
        table.add_row(r["sku"], r["demand_class"], r["method"], f"{r['forecast_daily']:.2f}", str(r["safety_stock"]),
                      str(r["reorder_point"]), str(r["inventory_position"]), str(r["order_qty"] or ""),
                      r["supplier"] or "", Text(r["action"], style=ACTION_STYLE[r["action"]]), r["reason"])
    console.print(table)
    if len(rows) > 40:
        console.print(f"[dim]… and {len(rows) - 40:,} more (--csv or --json for all).[/]")
    for r in rows:
        for alert in r["alerts"]:
            console.print(f"[bold red]{r['sku']}[/]: {alert}")


def plan_csv(path: Any, done: dict[str, Any]) -> None:
    import csv

    with open(path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=PLAN_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**r, "alerts": "; ".join(r["alerts"])} for r in done["suggestions"])


def simulation(console: Console, rows: list[dict[str, Any]], skus: int, days: int) -> None:
    table = Table(title=f"{skus:,} SKUs over {days} simulated days, the same demand and seed for each policy",
                  header_style="bold")
    for column in ("policy", "fill rate", "backorder rate", "promises kept", "avg inventory value",
                   "stock-out SKU-days", "buys (PO lines)"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for r in rows:
        table.add_row(r["policy"], _pct(r["fill_rate"]), _pct(r["backorder_rate"]), _pct(r["promises_kept"]),
                      f"{r['average_inventory_value']:,.0f}", f"{r['stockout_days']:,}", f"{r['replenishments']:,}")
    console.print(table)
