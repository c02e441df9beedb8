"""The schema. Alembic migrations (storage/migrations) create it; this module
is their reference and what the services query with SQLAlchemy Core.

Times are stored as naive UTC; dates are the shop's local dates.
Every quantity change is a row in `movements`; `stock`, `po_lines.qty_pegged`
and the quantities on `order_lines` are balances kept for speed and checked
against the ledger by `restock check`.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Money = sa.Numeric(14, 4)
Qty = sa.Integer
Code = sa.String(64)

locations = sa.Table(
    "locations", metadata,
    sa.Column("code", Code, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("handling_days", sa.Integer, nullable=False),
)

suppliers = sa.Table(
    "suppliers", metadata,
    sa.Column("code", Code, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("lead_time_days", sa.Integer, nullable=False),
    sa.Column("lead_time_sd_days", sa.Float, nullable=False),
)

skus = sa.Table(
    "skus", metadata,
    sa.Column("code", Code, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("price", Money, nullable=False),
    sa.Column("unit_cost", Money, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("cap", sa.Integer),
    sa.Column("max_wait_days", sa.Integer),
    sa.Column("release_date", sa.Date),
    sa.Column("reorder_point", sa.Integer),
    # Cancel backorders that pass max_wait_days (None: the shop's setting).
    sa.Column("cancel_overdue", sa.Boolean),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

supplier_items = sa.Table(
    "supplier_items", metadata,
    sa.Column("sku", Code, sa.ForeignKey("skus.code"), primary_key=True),
    sa.Column("supplier", Code, sa.ForeignKey("suppliers.code"), primary_key=True),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("lead_time_days", sa.Integer, nullable=False),
    sa.Column("lead_time_sd_days", sa.Float, nullable=False),
    sa.Column("unit_cost", Money, nullable=False),
    sa.Column("moq", Qty, nullable=False),
    sa.Column("pack_size", Qty, nullable=False),
)

stock = sa.Table(
    "stock", metadata,
    sa.Column("sku", Code, sa.ForeignKey("skus.code"), primary_key=True),
    sa.Column("location", Code, sa.ForeignKey("locations.code"), primary_key=True),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("allocated", sa.BigInteger, nullable=False),
    sa.Column("backordered", sa.BigInteger, nullable=False),
    sa.Column("inbound", sa.BigInteger, nullable=False),
    sa.Column("shipped", sa.BigInteger, nullable=False),
    sa.CheckConstraint("allocated >= 0 AND allocated <= on_hand", name="allocated_within_on_hand"),
    sa.CheckConstraint("backordered >= 0 AND inbound >= 0 AND shipped >= 0", name="non_negative"),
)

purchase_orders = sa.Table(
    "purchase_orders", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", Code, nullable=False, unique=True),
    sa.Column("supplier", Code, sa.ForeignKey("suppliers.code"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime),
)

po_lines = sa.Table(
    "po_lines", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("po_seq", sa.Integer, sa.ForeignKey("purchase_orders.seq"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("sku", Code, sa.ForeignKey("skus.code"), nullable=False),
    sa.Column("location", Code, sa.ForeignKey("locations.code"), nullable=False),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("qty_received", Qty, nullable=False),
    sa.Column("qty_closed", Qty, nullable=False),
    sa.Column("qty_pegged", Qty, nullable=False),
    sa.Column("eta", sa.Date, nullable=False),
    sa.Column("first_eta", sa.Date, nullable=False),
    sa.UniqueConstraint("po_seq", "line_no"),
    sa.CheckConstraint("qty_received + qty_closed <= qty", name="received_within_qty"),
    sa.CheckConstraint("qty_pegged >= 0 AND qty_pegged <= qty - qty_received - qty_closed",
                       name="pegged_within_open"),
    sa.Index(None, "sku", "eta"),
)

orders = sa.Table(
    "orders", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", Code, nullable=False, unique=True),
    sa.Column("customer_email", sa.String(320), nullable=False),
    sa.Column("customer_name", sa.String(200), nullable=False),
    sa.Column("ship_policy", sa.String(16), nullable=False),
    sa.Column("placed_at", sa.DateTime, nullable=False),
    sa.Column("status_token", sa.String(64), nullable=False, unique=True),
)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_seq", sa.Integer, sa.ForeignKey("orders.seq"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("sku", Code, sa.ForeignKey("skus.code"), nullable=False),
    sa.Column("location", Code, sa.ForeignKey("locations.code"), nullable=False),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("qty_allocated", Qty, nullable=False),
    sa.Column("qty_backordered", Qty, nullable=False),
    sa.Column("qty_shipped", Qty, nullable=False),
    sa.Column("qty_cancelled", Qty, nullable=False),
    sa.Column("allocated_at_placement", Qty, nullable=False),
    sa.Column("backordered_at_placement", Qty, nullable=False),
    sa.Column("promised_date", sa.Date, nullable=False),
    sa.Column("first_promised_date", sa.Date, nullable=False),
    sa.Column("estimated", sa.Boolean, nullable=False),
    sa.Column("placed_at", sa.DateTime, nullable=False),
    sa.Column("shipped_on", sa.Date),
    # The later date the customer chose to wait for (status page), and when the
    # line was found past its SKU's max_wait_days (backorder.overdue, raised once).
    sa.Column("wait_accepted_date", sa.Date),
    sa.Column("overdue_at", sa.DateTime),
    sa.UniqueConstraint("order_seq", "line_no"),
    sa.CheckConstraint(
        "qty_allocated >= 0 AND qty_backordered >= 0 AND qty_shipped >= 0 AND qty_cancelled >= 0 "
        "AND qty_allocated + qty_backordered + qty_shipped + qty_cancelled = qty",
        name="units_add_up",
    ),
    sa.Index("ix_order_lines_waiting", "sku", "promised_date", "placed_at", "id",
             sqlite_where=sa.text("qty_backordered > 0"),
             postgresql_where=sa.text("qty_backordered > 0")),
    # The whole queue in priority order, covering what its counts and ages read (the dashboard).
    sa.Index("ix_order_lines_queue", "promised_date", "placed_at", "id", "sku", "qty_backordered",
             sqlite_where=sa.text("qty_backordered > 0"),
             postgresql_where=sa.text("qty_backordered > 0")),
    sa.Index(None, "placed_at"),
)

pegs = sa.Table(
    "pegs", metadata,
    sa.Column("line_id", sa.Integer, sa.ForeignKey("order_lines.id"), primary_key=True),
    sa.Column("po_line_id", sa.Integer, sa.ForeignKey("po_lines.id"), primary_key=True),
    sa.Column("qty", Qty, nullable=False),
    sa.CheckConstraint("qty > 0", name="positive"),
    sa.Index(None, "po_line_id"),
)

promise_changes = sa.Table(
    "promise_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("line_id", sa.Integer, sa.ForeignKey("order_lines.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("old_date", sa.Date, nullable=False),
    sa.Column("new_date", sa.Date, nullable=False),
    sa.Column("cause", sa.String(32), nullable=False),
)

shipments = sa.Table(
    "shipments", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_seq", sa.Integer, sa.ForeignKey("orders.seq"), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("ship_after", sa.Date, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("shipped_at", sa.DateTime),
    sa.Column("tracking", sa.String(200)),
    sa.Index(None, "status", "ship_after"),
)

shipment_lines = sa.Table(
    "shipment_lines", metadata,
    sa.Column("shipment_id", sa.Integer, sa.ForeignKey("shipments.id"), primary_key=True),
    sa.Column("line_id", sa.Integer, sa.ForeignKey("order_lines.id"), primary_key=True, index=True),
    sa.Column("qty", Qty, nullable=False),
    sa.CheckConstraint("qty > 0", name="positive"),
)

movements = sa.Table(
    "movements", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("sku", Code, nullable=False),
    sa.Column("location", Code, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("dest", sa.String(16), nullable=False),
    sa.Column("qty", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("ref", sa.String(80)),
    sa.CheckConstraint("qty > 0", name="positive"),
    sa.Index(None, "sku", "location"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("order_id", Code, index=True),
    sa.Column("sku", Code, index=True),
    sa.Column("data", sa.JSON, nullable=False),
)

# Single-row counters. `events` hands out event ids under a row lock taken
# just before commit, so event ids are in commit order.
counters = sa.Table(
    "counters", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
)

# Answers of creating requests by Idempotency-Key (scoped to the caller's API
# key): a repeat gets the first answer and changes nothing.
idempotency = sa.Table(
    "idempotency", metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("response", sa.JSON),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Past demand imported from files, per SKU and day (demand as ordered); a
# re-import of the same source replaces its rows.
demand_history = sa.Table(
    "demand_history", metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("sku", Code, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("qty", sa.BigInteger, nullable=False),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Index(None, "sku", "day"),
)

# Where events go: webhooks registered by the shop (PUT /v1/webhooks/{name}).
webhooks = sa.Table(
    "webhooks", metadata,
    sa.Column("name", Code, primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# One delivery of events to one target: a webhook ("webhook:<name>", one event)
# or the customer ("email", the events of one order written together). The
# dispatcher fans events out into deliveries (counter "fanout" is the last event
# done), leases due ones, and marks them done only after the target said yes.
# Deliveries of one (target, key) go out in event order.
deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(80), nullable=False),
    sa.Column("key", sa.String(80), nullable=False),
    sa.Column("first_event", sa.BigInteger, nullable=False),
    sa.Column("event_ids", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", sa.DateTime, nullable=False),
    sa.Column("leased_until", sa.DateTime),
    sa.Column("last_error", sa.String(500)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("done_at", sa.DateTime),
    sa.Index(None, "status", "next_at"),
    sa.Index(None, "target", "key", "first_event"),
)

# Replenishment plans (POST /v1/plans) and their suggestions, one per SKU; `po`
# is the purchase order an approval made from it.
plans = sa.Table(
    "plans", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("error", sa.String(500)),
)

plan_suggestions = sa.Table(
    "plan_suggestions", metadata,
    sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id"), primary_key=True),
    sa.Column("sku", Code, primary_key=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("po", Code),
)

# One row a day of what is not kept elsewhere as history: the open backorders as
# they stood (the dashboard's trend of open backorders and their age). Written by
# the dispatcher's periodic sweep (services.record_day); the last write of a day wins.
daily_figures = sa.Table(
    "daily_figures", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("open_backorders", sa.Integer, nullable=False),
    sa.Column("open_backorder_units", sa.BigInteger, nullable=False),
    sa.Column("average_age_days", sa.Float, nullable=False),
    sa.Column("at_risk", sa.Integer, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)

DEFAULT_LOCATION = "main"
SEED_ROWS: dict[sa.Table, list[dict[str, object]]] = {
    locations: [{"code": DEFAULT_LOCATION, "name": "Main warehouse", "handling_days": 1}],
    counters: [{"name": "events", "value": 0}, {"name": "fanout", "value": 0}],
}
