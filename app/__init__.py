"""Needs-assessment questionnaires, expert review and gap reports for partner agencies."""

from __future__ import annotations

import os
import sys

from flask import Flask

from app.config import ConfigError, app_title, load_config
from app.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, error handlers, commands."""
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    try:
        app.config.from_mapping(load_config(app.instance_path, config))
    except ConfigError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        raise SystemExit(2) from exc
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        # X-Forwarded-Host is not trusted: links sent by e-mail come from BASE_URL, and the proxy passes the
        # original Host header itself (see the README's nginx configuration).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)
    from app.core.ids import IdConverter

    app.url_map.converters["int"] = IdConverter  # before the routes are added: ids a database can hold
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_commands(app)
    return app


#: Every module that defines models, imported so the metadata is complete for Alembic and the mappers.
MODEL_MODULES = (
    "app.core.models",
    "app.auth.models",
    "app.directory.models",
    "app.questionnaires.models",
    "app.mail.models",
    "app.campaigns.models",
    "app.responses.models",
    "app.scoring.models",
    "app.review.models",
    "app.api.models",
)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extension objects to this app."""
    import importlib

    for module in MODEL_MODULES:
        importlib.import_module(module)
    from app.auth.loader import load_user
    from app.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)

    @app.after_request
    def retry_after_only_when_refused(response):
        # Flask-Limiter writes Retry-After on every answer it counts; it means "wait" only on a 429 (or a 503).
        # Registered before the limiter, this runs after it (Flask runs these in reverse order).
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)


def register_blueprints(app: Flask) -> None:
    """Register each feature's blueprint explicitly."""
    from app.api.pages import bp as api_tokens_bp
    from app.api.views import bp as api_bp
    from app.auth.views import bp as auth_bp
    from app.campaigns.views import bp as campaigns_bp
    from app.core.views import bp as core_bp
    from app.dashboards.views import bp as dashboards_bp
    from app.directory.views import bp as directory_bp
    from app.mail.views import bp as mail_bp
    from app.questionnaires.views import bp as questionnaires_bp
    from app.reports.export_views import bp as exports_bp
    from app.reports.views import bp as reports_bp
    from app.responses.respond import bp as respond_bp
    from app.responses.views import bp as responses_bp
    from app.review.views import bp as review_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(questionnaires_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(responses_bp)
    app.register_blueprint(respond_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(dashboards_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(exports_bp)


def register_hooks(app: Flask) -> None:
    """Error pages, security headers, request logging, template helpers."""
    from app.core import errors, logging, security, templating

    errors.register(app)
    security.register(app)
    logging.register(app)
    templating.register(app)
    # The name in the page's (or the e-mail's) language; pages and e-mails call it instead of using APP_TITLE.
    app.jinja_env.globals["site_title"] = app_title
    # "today" of every rule and limit given no date is the date in TIMEZONE (the pages, the review, the reports,
    # the API and the workbook then agree): the questionnaire modules know no Flask, so they are told here.
    from app.i18n import local_today
    from app.questionnaires import expressions

    expressions.today_provider = local_today


def register_commands(app: Flask) -> None:
    """Add each feature's `flask` command group."""
    from app.auth.cli import users_cli
    from app.campaigns.cli import campaigns_cli
    from app.demo.cli import demo_cli
    from app.directory.cli import directory_cli
    from app.mail.cli import outbox_cli
    from app.questionnaires.cli import questionnaires_cli
    from app.reports.cli import reports_cli
    from app.reports.raw_cli import raw_command  # noqa: F401 - attaches `flask reports raw` to reports_cli
    from app.responses.cli import responses_cli  # importing it also adds `flask campaigns remind`
    from app.scoring.cli import scores_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(questionnaires_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(campaigns_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(responses_cli)
    app.cli.add_command(scores_cli)
    app.cli.add_command(reports_cli)
