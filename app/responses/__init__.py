"""Responses of agencies to campaigns, their answers, and the progress overview."""
