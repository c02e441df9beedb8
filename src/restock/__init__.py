"""restock: backorders with honest ship dates, filled first when stock arrives."""

__version__ = "0.1.0"
