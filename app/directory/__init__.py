"""The partner directory: countries, agencies, contacts."""
