"""Every business action on orders, stock and money: one transaction each, with its audit event."""
