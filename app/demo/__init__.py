"""Demo data for `make run`: countries, accounts (and, as features land, questionnaires and campaigns)."""
