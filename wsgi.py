"""WSGI entry point: `gunicorn wsgi:app`, and the app `flask` finds through .flaskenv.

A `.env` file beside this one is read first, as the `flask` command reads it, so that a server started with
gunicorn gets the same settings as `flask db upgrade` did (variables already set in the environment win)."""

from pathlib import Path

from dotenv import load_dotenv

load_dotenv(Path(__file__).resolve().parent / ".env", override=False)

from app import create_app  # noqa: E402 - after the settings are read

app = create_app()
