"""After-sale cases, reviews, returns, refunds and arbitration (the after-sale issue builds them)."""
