"""restock's domain: policies, supply and demand, promising, shipping.
Imports the standard library only."""
