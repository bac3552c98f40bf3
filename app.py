"""The Lambda entry point: registers the route blueprints and nothing else."""
from chalice import Chalice

from chalicelib.api import forces, openapi
from chalicelib.web import pages

app = Chalice(app_name="iag-backoffice")
app.register_blueprint(forces.api)
app.register_blueprint(openapi.api)
app.register_blueprint(pages.web)
