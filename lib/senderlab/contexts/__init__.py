"""Execution resources: ``run_loop``, ``inline_scheduler`` (and, with the concurrency
work, thread pools, the parallel scheduler and timers)."""
