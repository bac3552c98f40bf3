"""The table AWS gets from infra/ is the table the code (and moto) uses, and the packaged template is what a
security reviewer would accept: data recoverable and encrypted, nothing public, secrets by name only,
operators in a locked-down pool that the API's authorizer really points at, and roles that grant no more
than the code uses."""
import json
import re
from pathlib import Path

import pytest

from chalicelib.adapters.dynamodb.base import Item

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "resources.json"
# Actions whose IAM resource can only be "*" (AWS defines no resource-level permission for them).
STAR_ONLY_ACTIONS = {"ecr:GetAuthorizationToken", "ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition",
                     "ecs:DeregisterTaskDefinition", "ecs:ListTaskDefinitions", "ec2:DescribeSubnets",
                     "ec2:DescribeVpcs", "ec2:DescribeSecurityGroups"}
# What the code calls: pynamodb get/save/update/delete/query, TransactWrite (its parts), batch_write.
TABLE_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                 "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchWriteItem"}


def table_properties() -> dict:
    return json.loads(TEMPLATE.read_text())["Resources"]["ApplicationsTable"]["Properties"]


def test_the_deployed_table_has_the_keys_and_index_the_models_query():
    schema, table = Item._get_schema(), table_properties()
    assert table["KeySchema"] == [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
                                  for k in schema["key_schema"]]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == \
        {(a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]}
    [index] = schema["global_secondary_indexes"]
    [deployed] = table["GlobalSecondaryIndexes"]
    assert deployed["IndexName"] == index["index_name"] and deployed["KeySchema"] == index["key_schema"]


def test_the_deployed_table_is_recoverable_encrypted_and_expires_tokens():
    table = table_properties()
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": Item.expires_at.attr_name, "Enabled": True}


# --- The packaged template: `chalice package --stage prod --merge-template infra/resources.json`, as `make package`.

@pytest.fixture(scope="module")
def packaged(chalice_package) -> dict:
    result, out = chalice_package  # the run's one package build (tests/conftest.py)
    if result.returncode != 0:
        pytest.fail(f"chalice package failed:\n{result.stdout}\n{result.stderr}")
    return json.loads((out / "sam.json").read_text())


def resources_of(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(role: dict) -> list[dict]:
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.slow
def test_the_packaged_table_keeps_recovery_encryption_ttl_and_deletion_protection(packaged):
    table = packaged["Resources"]["ApplicationsTable"]
    properties = table["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


@pytest.mark.slow
def test_every_bucket_is_private_encrypted_versioned_and_refuses_plain_http(packaged):
    buckets = resources_of(packaged, "AWS::S3::Bucket")
    assert {"DocumentsBucket", "FlowResultsBucket", "AccessLogsBucket"} <= set(buckets)
    tls_only = {policy["Properties"]["Bucket"]["Ref"] for policy in resources_of(packaged, "AWS::S3::BucketPolicy").values()
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
                if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}}
    for name, bucket in buckets.items():
        properties = bucket["Properties"]
        assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}, name
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, name
        assert name in tls_only, f"{name} has no TLS-only bucket policy"
    for name in ("DocumentsBucket", "FlowResultsBucket"):
        assert buckets[name]["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}


@pytest.mark.slow
def test_the_operator_authorizer_points_at_the_pool_the_template_creates(packaged):
    definition = packaged["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = definition["securityDefinitions"]["OperatorPool"]["x-amazon-apigateway-authorizer"]
    assert authorizer == {"type": "cognito_user_pools", "providerARNs": [{"Fn::GetAtt": ["OperatorUserPool", "Arn"]}]}
    guarded = [path for path, methods in definition["paths"].items() for m in methods.values()
               if isinstance(m, dict) and {"OperatorPool": []} in m.get("security", [])]
    assert guarded and all(path.startswith("/admin/") for path in guarded)


@pytest.mark.slow
def test_operators_are_created_by_admins_only_with_strong_passwords_and_totp(packaged):
    pool = packaged["Resources"]["OperatorUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "ON" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(password[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert pool["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert {a["Name"] for a in pool["Schema"]} >= {"force_id", "group_ids"}
    groups = {g["Properties"]["GroupName"] for g in resources_of(packaged, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"platform", "force_admin", "coordinator", "auditor"}


@pytest.mark.slow
def test_operators_cannot_change_their_own_force_or_groups(packaged):
    [client] = resources_of(packaged, "AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    assert properties["GenerateSecret"] is False  # a CLI or browser cannot keep one
    assert {"custom:force_id", "custom:group_ids"} <= set(properties["ReadAttributes"])
    assert not [a for a in properties["WriteAttributes"] if a.startswith("custom:")]
    assert properties["IdTokenValidity"] <= 60 and properties["TokenValidityUnits"]["IdToken"] == "minutes"


@pytest.mark.slow
def test_the_function_reads_the_resources_the_template_creates(packaged):
    variables = packaged["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["IAG_STAGE"] == "prod"
    assert variables["IAG_TABLE"] == {"Ref": "ApplicationsTable"}
    assert variables["IAG_DOCUMENTS_BUCKET"] == {"Ref": "DocumentsBucket"}
    assert variables["IAG_COGNITO_POOL_ID"] == {"Ref": "OperatorUserPool"}
    assert variables["IAG_COGNITO_CLIENT_ID"] == {"Ref": "OperatorPoolClient"}
    assert variables["IAG_FORM_SECRET_NAME"] == {"Ref": "FormSecret"}
    assert variables["IAG_PREFECT_API_KEY_NAME"] == {"Ref": "PrefectApiKeySecret"}
    assert "${SenderDomain}" in variables["IAG_MAIL_FROM"]["Fn::Sub"]
    identity = packaged["Resources"]["SenderIdentity"]["Properties"]
    assert identity["EmailIdentity"] == {"Ref": "SenderDomain"} and identity["DkimAttributes"]["SigningEnabled"] is True


@pytest.mark.slow
def test_no_secret_value_is_written_in_the_template(packaged):
    variables = packaged["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert not {"IAG_FORM_SECRET", "IAG_PREFECT_API_KEY", "PREFECT_API_KEY"} & set(variables)
    for secret in resources_of(packaged, "AWS::SecretsManager::Secret").values():
        assert "SecretString" not in secret["Properties"] and "GenerateSecretString" in secret["Properties"]
    text = json.dumps(packaged)
    assert "local-only-form-secret" not in text and '"SecretString"' not in text
    for name, parameter in packaged.get("Parameters", {}).items():  # a secret passed as a parameter is echoed
        assert not re.search(r"(?i)(password|api_?key|token|secret)$", name) or parameter.get("NoEcho"), name


@pytest.mark.slow
def test_the_function_role_names_every_resource_and_grants_only_what_the_code_calls(packaged):
    role = statements(packaged["Resources"]["ApiHandlerRole"])
    assert [s for s in role if "*" in as_list(s["Resource"]) or any("*" in a for a in as_list(s["Action"]))] == []
    by_sid = {s["Sid"]: s for s in role}
    assert set(by_sid["ApplicationsTable"]["Action"]) == TABLE_ACTIONS
    assert by_sid["OnboardingDocuments"]["Action"] == ["s3:GetObject"]
    assert by_sid["OnboardingDocuments"]["Resource"] == {"Fn::Sub": "${DocumentsBucket.Arn}/documents/*"}
    # Without ListBucket S3 answers 403 for a missing key, and the code could not tell "not published" (404).
    assert by_sid["MissingDocumentsAre404"] == {"Sid": "MissingDocumentsAre404", "Effect": "Allow",
                                                "Action": ["s3:ListBucket"],
                                                "Resource": {"Fn::GetAtt": ["DocumentsBucket", "Arn"]}}
    # The sender identity, and the configuration set it sends through by default (bounces and complaints to SNS).
    assert sorted(r["Fn::Sub"].rsplit(":", 1)[1] for r in as_list(by_sid["SendEmail"]["Resource"])) == [
        "configuration-set/${FeedbackConfigurationSet}", "identity/${SenderDomain}"]
    assert by_sid["Secrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert {"Ref": "FormSecret"} in by_sid["Secrets"]["Resource"]
    assert not [s for s in role if s["Effect"] != "Allow" or s["Action"] == ["s3:PutObject"]]
    # Whether an operator's token still stands (enabled, not signed out since), and signing out: nothing else.
    assert by_sid["OperatorStanding"]["Action"] == ["cognito-idp:AdminGetUser", "cognito-idp:AdminUpdateUserAttributes",
                                                    "cognito-idp:AdminUserGlobalSignOut"]
    assert by_sid["OperatorStanding"]["Resource"] == {"Fn::GetAtt": ["OperatorUserPool", "Arn"]}


@pytest.mark.slow
def test_the_worker_roles_use_star_only_where_aws_allows_nothing_narrower(packaged):
    for name in ("FlowTaskRole", "FlowExecutionRole", "PrefectWorkerRole"):
        for statement in statements(packaged["Resources"][name]):
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= STAR_ONLY_ACTIONS, (name, statement["Sid"])
    task = {s["Sid"]: s for s in statements(packaged["Resources"]["FlowTaskRole"])}
    # No flow writes a transaction that checks another item (review and ballot links do, in the API).
    assert set(task["ApplicationsTable"]["Action"]) == TABLE_ACTIONS - {"dynamodb:ConditionCheckItem"}
    assert task["FlowResults"]["Resource"] == {"Fn::Sub": "${FlowResultsBucket.Arn}/*"}


@pytest.mark.slow
def test_chalice_deploys_policy_grants_what_the_packaged_role_grants(packaged):
    """`.chalice/policy-prod.json` is what `chalice deploy` would use; the packaged template replaces it."""
    packaged_role = {s["Sid"]: set(as_list(s["Action"])) for s in statements(packaged["Resources"]["ApiHandlerRole"])}
    chalice_policy = {s["Sid"]: set(as_list(s["Action"]))
                      for s in json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())["Statement"]}
    assert set(chalice_policy) == set(packaged_role)
    # chalice deploy creates no log group, so that policy alone may also create one.
    assert {sid: actions - {"logs:CreateLogGroup"} for sid, actions in chalice_policy.items()} == packaged_role


@pytest.mark.slow
def test_the_api_is_throttled_and_a_waf_limits_each_client_address(packaged):
    [settings] = packaged["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]
    [acl] = resources_of(packaged, "AWS::WAFv2::WebACL").values()
    rate_rules = {r["Name"]: r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]}
    posts = rate_rules["posts-per-client"]["Statement"]["RateBasedStatement"]
    assert posts["AggregateKeyType"] == "IP" and posts["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == "POST"
    assert all(r["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429 for r in rate_rules.values())
    [association] = resources_of(packaged, "AWS::WAFv2::WebACLAssociation").values()
    assert "${RestAPI}/stages/api" in association["Properties"]["ResourceArn"]["Fn::Sub"]
    assert association["DependsOn"] == "RestAPIapiStage"  # the stage SAM makes for chalice's RestAPI, named "api"


@pytest.mark.slow
def test_bounces_and_complaints_reach_their_function_from_this_accounts_ses_only(packaged):
    resources = packaged["Resources"]
    identity = resources["SenderIdentity"]["Properties"]
    assert identity["ConfigurationSetAttributes"] == {"ConfigurationSetName": {"Ref": "FeedbackConfigurationSet"}}
    destination = resources["FeedbackEventDestination"]["Properties"]["EventDestination"]
    assert sorted(destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert destination["SnsDestination"] == {"TopicARN": {"Ref": "SesFeedbackTopic"}}
    assert resources["SesFeedbackTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "SesFeedbackKey"}
    (publish,) = resources["SesFeedbackTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert publish["Principal"] == {"Service": "ses.amazonaws.com"} and publish["Action"] == "sns:Publish"
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    # SAM makes the subscription and the Lambda permission from this event: only that topic may invoke it.
    function = resources["SesFeedback"]["Properties"]
    assert function["Handler"] == "chalicelib.api.mail_feedback.ses_feedback"
    assert [e["Properties"]["Topic"] for e in function["Events"].values()] == [{"Ref": "SesFeedbackTopic"}]
    assert function["Environment"]["Variables"]["IAG_SES_FEEDBACK_TOPIC_ARN"] == {"Ref": "SesFeedbackTopic"}
    role = statements(resources["SesFeedbackRole"])
    assert [s for s in role if "*" in as_list(s["Resource"]) or any("*" in a for a in as_list(s["Action"]))] == []
    assert {a for s in role for a in as_list(s["Action"]) if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}
