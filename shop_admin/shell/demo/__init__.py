"""The demo shops: people, catalogue, the clock of a shop's month and the story of each order (see seed_demo)."""
