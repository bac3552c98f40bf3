"""Secrets read at run time by name: what a deployed function does instead of holding them in its environment."""
import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.secrets import Secrets, SecretUnavailable
from chalicelib.settings import Settings


class Ticks:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-2"), boto3.client("ssm", region_name="eu-west-2")


def test_a_secrets_manager_secret_is_read_by_name_and_by_arn(aws):
    manager, _ = aws
    arn = manager.create_secret(Name="iag/prod/form-secret", SecretString="s3cret-value")["ARN"]
    secrets = Secrets("eu-west-2")
    assert secrets.read("iag/prod/form-secret") == "s3cret-value"
    assert secrets.read(arn) == "s3cret-value"


def test_an_ssm_securestring_is_read_decrypted(aws):
    _, ssm = aws
    ssm.put_parameter(Name="/iag/notify/derbyshire", Value="notify-key", Type="SecureString")
    assert Secrets("eu-west-2").read("ssm:/iag/notify/derbyshire") == "notify-key"


def test_a_warm_process_asks_once_and_sees_a_rotated_secret_after_the_cache_expires(aws):
    manager, _ = aws
    manager.create_secret(Name="iag/prod/prefect-api-key", SecretString="first")
    ticks = Ticks()
    secrets = Secrets("eu-west-2", clock=ticks, cache_seconds=900)
    assert secrets.read("iag/prod/prefect-api-key") == "first"
    manager.put_secret_value(SecretId="iag/prod/prefect-api-key", SecretString="rotated")
    ticks.now = 899
    assert secrets.read("iag/prod/prefect-api-key") == "first"
    ticks.now = 900
    assert secrets.read("iag/prod/prefect-api-key") == "rotated"


DEPLOYED_COMMON = {"IAG_PREFECT_API_URL": "https://prefect.example/api", "IAG_PUBLIC_BASE_URL": "https://iag.example",
                   "IAG_MAIL_FROM": "IAG <no-reply@iag.example>"}


def test_a_missing_secret_names_itself_in_the_error(aws):
    with pytest.raises(SecretUnavailable, match="iag/prod/nothing-here"):
        Secrets("eu-west-2").read("iag/prod/nothing-here")


def test_deployed_settings_take_the_form_secret_and_prefect_key_from_secrets_manager(aws):
    manager, _ = aws
    manager.create_secret(Name="iag/prod/form-secret", SecretString="form-signing-key")
    manager.create_secret(Name="iag/prod/prefect-api-key", SecretString="pnu_key")
    settings = Settings.from_env({"IAG_STAGE": "prod", **DEPLOYED_COMMON, "IAG_FORM_SECRET_NAME": "iag/prod/form-secret",
                                  "IAG_PREFECT_API_KEY_NAME": "iag/prod/prefect-api-key"})
    assert settings.form_secret == b"form-signing-key"
    assert settings.prefect_api_key == "pnu_key"


def test_a_deployed_stage_without_a_form_secret_refuses_to_sign_forms():
    settings = Settings.from_env({"IAG_STAGE": "prod", **DEPLOYED_COMMON})
    with pytest.raises(RuntimeError, match="IAG_FORM_SECRET_NAME"):
        _ = settings.form_secret
    assert settings.prefect_api_key is None


def test_local_and_tests_keep_the_plain_environment_values():
    settings = Settings.from_env({"IAG_STAGE": "local", "IAG_PREFECT_API_KEY": "local-key"})
    assert settings.form_secret == b"local-only-form-secret"
    assert settings.prefect_api_key == "local-key"
