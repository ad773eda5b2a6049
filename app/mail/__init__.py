"""E-mail: the outbox table, rendering in the recipient's language, and sending over SMTP."""
