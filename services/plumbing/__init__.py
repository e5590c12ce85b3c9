"""Cross-cutting plumbing shared by every service: configuration, database sessions, the
transactional outbox and its relay, idempotent event handling with retry and dead-lettering,
metrics, structured logs and error types. No domain code lives here."""
