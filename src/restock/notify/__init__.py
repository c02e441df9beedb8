"""Telling the world: the dispatcher that delivers outbox events to webhooks
and as customer emails, and the two seams it sends through (HTTP and SMTP),
each with a real adapter and an in-memory fake."""
