"""Excel and CSV outputs: the country gap report, the regional summary and the raw data export."""
