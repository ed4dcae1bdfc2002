"""The kernel every app may use: errors, actors, permissions, deadlines, background jobs, shops, warehouses, members, roles, tokens.

It names no app above it; apps register with it what it must know (deadline kinds, job kinds).
"""
