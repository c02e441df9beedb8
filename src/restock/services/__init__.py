"""restock's services: each public function is one transaction on a `Shop`.

They take plain values, return plain dicts shaped like the HTTP API's JSON
(API.md), and raise restock.errors on refusal, with nothing written.
"""

from restock.services.catalog import get_sku, list_skus, put_location, put_sku, put_supplier
from restock.services.explain import explain_line
from restock.services.history import store_history
from restock.services.keys import create_key, role_of
from restock.services.kpis import kpis, list_events, promise_moves, shop_figures
from restock.services.ledger import check_ledger, rebuild_balances
from restock.services.orders import cancel_order, get_order, list_backorders, place_order
from restock.services.purchasing import change_eta, close_po, create_po, get_po, receive
from restock.services.quotes import quote, quote_many
from restock.services.shipping import list_shipments, ship
from restock.services.stock import adjust_stock

__all__ = [
    "adjust_stock",
    "cancel_order",
    "change_eta",
    "check_ledger",
    "close_po",
    "create_key",
    "create_po",
    "explain_line",
    "get_order",
    "get_po",
    "get_sku",
    "kpis",
    "list_backorders",
    "list_events",
    "list_shipments",
    "list_skus",
    "place_order",
    "promise_moves",
    "put_location",
    "put_sku",
    "put_supplier",
    "quote",
    "quote_many",
    "rebuild_balances",
    "receive",
    "role_of",
    "ship",
    "shop_figures",
    "store_history",
]
