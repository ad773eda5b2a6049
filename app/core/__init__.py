"""Base layout, error pages, security headers, health check, request logging and the audit log."""
