"""The Lambda entry point: registers the route blueprints and nothing else.

Importing this is the Lambda's cold start: the route modules import the services (and the domain only some routes
use) inside their handlers, and chalicelib/bootstrap.py each service where it first builds it, so a start loads the
routes and what every request needs, and a request the services it calls (docs/architecture.md).
"""
import os

from chalice import Chalice

from chalicelib.adapters.logs import configure_logging
from chalicelib.api import admin, admin_business, admin_members, forces, mail_feedback, openapi, watch  # noqa: F401 (they add admin routes)
from chalicelib.settings import Settings
from chalicelib.web import (
    apply_pages, callouts, console, elections, joining, links, meeting_business, members, membership,
    operator_pages, pages, strategic, subject_access,
)
from chalicelib.web import console_business, console_pages  # noqa: F401 (they add their routes to console's blueprint)
from chalicelib.web.transport import security_headers

app = Chalice(app_name="iag-backoffice")
app.api.binary_types.append("multipart/form-data")  # evidence uploads arrive as bytes, not text
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # in Lambda: a misconfigured stage fails the cold start, never a request
    Settings.from_env().check_api()
app.register_middleware(security_headers, "http")
configure_logging()  # JSON lines carrying the application reference, never personal data
app.register_blueprint(forces.api)
app.register_blueprint(openapi.api)
app.register_blueprint(admin.admin)
app.register_blueprint(pages.web)
app.register_blueprint(apply_pages.apply_pages)
app.register_blueprint(links.links)
app.register_blueprint(joining.joining)
app.register_blueprint(callouts.callouts)
app.register_blueprint(strategic.strategic)
app.register_blueprint(elections.elections)
app.register_blueprint(subject_access.subject_access)
app.register_blueprint(operator_pages.operator_pages)
app.register_blueprint(console.console)  # console_pages and later modules add their routes to it
app.register_blueprint(members.members)
app.register_blueprint(membership.membership)
app.register_blueprint(meeting_business.meeting_business)
app.register_blueprint(watch.watch)  # a schedule, not a route: decisions Prefect never got
app.register_blueprint(mail_feedback.mail_feedback)  # SNS, not a route: bounces and complaints SES tells later

if os.environ.get("IAG_STAGE") == "local":  # the local mailbox; `chalice package --stage prod` never sees it
    from chalicelib.web import dev

    app.register_blueprint(dev.dev)
