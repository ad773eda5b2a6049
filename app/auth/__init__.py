"""Users, roles, password sign-in and permission checks."""
