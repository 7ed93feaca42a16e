"""Event sourcing and CQRS on pyeventsourcing: schema-mapped events, the event store as the outbox (relay),
schema-generated upcasting, projections with tracking in the read model's transaction."""
