"""Replenishment planning: demand classes, safety stock, reorder points and
order quantities. Pure functions over numbers; forecasting and plans build on them."""
