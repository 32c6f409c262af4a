"""The sender/receiver protocol: completion channels, environments and queries, stop
tokens, completion signatures, domains, senders/receivers/operation states, schedulers
and tracing."""
