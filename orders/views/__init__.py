"""Console pages of orders and products."""
