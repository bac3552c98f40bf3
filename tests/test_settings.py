"""Fail closed: outside the local stage nothing falls back to a local default."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.settings import Misconfigured, Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOYED = {"IAG_STAGE": "prod", "IAG_PREFECT_API_URL": "https://prefect.example/api",
            "IAG_PUBLIC_BASE_URL": "https://iag.example", "IAG_MAIL_FROM": "IAG <no-reply@iag.example>",
            "IAG_FORM_SECRET_NAME": "iag/prod/form-secret", "IAG_COGNITO_POOL_ID": "eu-west-2_pool",
            "IAG_COGNITO_CLIENT_ID": "client"}


def test_an_empty_environment_is_refused_rather_than_taken_for_the_local_stage():
    with pytest.raises(Misconfigured, match="IAG_STAGE"):
        Settings.from_env({})


def test_an_unknown_stage_is_refused():
    with pytest.raises(Misconfigured, match="'production'"):
        Settings.from_env({**DEPLOYED, "IAG_STAGE": "production"})


@pytest.mark.parametrize("variable", ["IAG_PREFECT_API_URL", "IAG_PUBLIC_BASE_URL", "IAG_MAIL_FROM"])
def test_a_deployed_stage_names_each_setting_that_would_fall_back_to_a_local_default(variable):
    env = {k: v for k, v in DEPLOYED.items() if k != variable}
    with pytest.raises(Misconfigured, match=variable):
        Settings.from_env(env)


def test_a_deployed_stage_never_uses_the_simulated_screening_provider():
    with pytest.raises(Misconfigured, match="simulated"):
        Settings.from_env({**DEPLOYED, "IAG_SCREENING": "simulated"})


@pytest.mark.parametrize("variable", ["IAG_FORM_SECRET_NAME", "IAG_COGNITO_POOL_ID", "IAG_COGNITO_CLIENT_ID"])
def test_the_deployed_api_needs_its_form_secret_and_operator_pool(variable):
    settings = Settings.from_env({k: v for k, v in DEPLOYED.items() if k != variable})
    with pytest.raises(Misconfigured, match=variable):
        settings.check_api()


def test_a_complete_deployed_environment_is_accepted_as_it_is():
    settings = Settings.from_env(DEPLOYED).check_api()
    assert (settings.prefect_api_url, settings.screening_provider) == ("https://prefect.example/api", "profile")
    assert settings.form_secret_value is None  # read from Secrets Manager by name, never the local one


def test_the_local_stage_keeps_its_defaults():
    settings = Settings.from_env({"IAG_STAGE": "local"}).check_api()
    assert settings.prefect_api_url == "http://127.0.0.1:4200/api"
    assert settings.screening_provider == "simulated"


def test_a_lambda_cold_start_with_production_settings_from_an_empty_environment_stops_the_function():
    env = {"PATH": os.environ["PATH"], "AWS_LAMBDA_FUNCTION_NAME": "iag-backoffice-prod", "IAG_STAGE": "prod",
           "AWS_DEFAULT_REGION": "eu-west-2"}
    started = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode != 0
    assert "Misconfigured" in started.stderr and "IAG_PREFECT_API_URL" in started.stderr


def test_the_contacts_are_kept_a_minute_unless_the_environment_says_otherwise():
    assert Settings.from_env({"IAG_STAGE": "local"}).contacts_ttl_seconds == 60.0
    assert Settings.from_env({"IAG_STAGE": "local", "IAG_CONTACTS_TTL_SECONDS": ""}).contacts_ttl_seconds == 60.0
    assert Settings.from_env({"IAG_STAGE": "local", "IAG_CONTACTS_TTL_SECONDS": "1"}).contacts_ttl_seconds == 1.0
    assert Settings.from_env({**DEPLOYED, "IAG_CONTACTS_TTL_SECONDS": "0.5"}).contacts_ttl_seconds == 0.5


@pytest.mark.parametrize("value", ["a minute", "-1", "nan", "inf", "60s"])
def test_a_time_to_keep_contacts_that_is_not_a_number_of_seconds_is_refused_at_start(value):
    with pytest.raises(Misconfigured, match=f"IAG_CONTACTS_TTL_SECONDS .*{value!r}"):
        Settings.from_env({"IAG_STAGE": "local", "IAG_CONTACTS_TTL_SECONDS": value})
