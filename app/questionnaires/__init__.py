"""Questionnaire definitions: schema, loader, expression language, question types, XLSForm, versions."""
