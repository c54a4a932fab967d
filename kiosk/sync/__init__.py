"""The domain's side of synchronisation: the durable outbox written with each state change, and
the national decisions coming back. The HTTP client and the worker live in the top-level ``sync``
package, which depends on this one, never the reverse."""
