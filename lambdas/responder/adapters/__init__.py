"""Adapters at the edges: AWS clients, delivery channels, queues, state, exactly-once, telemetry.

They may use the domain's types; they never import a use case or an entry module.
"""
