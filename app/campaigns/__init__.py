"""Campaigns (rounds of asking), the agencies they cover, magic-link invitations and reminders."""
