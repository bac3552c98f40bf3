"""infra/prefect-host.json, the one-instance Prefect host, read as plain JSON (no package build, no AWS).

What it must keep: only HTTPS open, IMDSv2, encrypted volumes, no secret in the template, a role granting exactly
what a flow run on ECS may do (plus Session Manager), and user data that installs the pinned Prefect and starts the
database, the server, the proxy and the worker with its limit. The user data itself cannot run here (it needs an EC2
instance): it is checked for syntax with bash -n, and with shellcheck where installed.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = json.loads((ROOT / "infra" / "prefect-host.json").read_text())
MAIN = json.loads((ROOT / "infra" / "resources.json").read_text())
RESOURCES = HOST["Resources"]
# Stand-ins for the parameters, so the user data reads as the instance gets it.
SAMPLE = {"PrefectDomain": "prefect.iag.example", "RepositoryUrl": "https://git.example/iag-backoffice.git",
          "RepositoryRef": "v1", "DocumentsBucketName": "docs-bucket", "MailFromName": "IAG Back Office",
          "MailFromLocalPart": "no-reply", "SenderDomain": "iag.example", "PublicBaseUrl": "https://iag.example",
          "PrefectApiKeySecretArn": "arn:aws:secretsmanager:eu-west-2:111122223333:secret:iag/x/prefect-api-key-AbCdEf",
          "FlowRunLimit": "4", "AWS::Region": "eu-west-2", "FlowResultsBucketName": "results-bucket"}


def of_type(kind: str) -> dict:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def user_data() -> str:
    [instance] = of_type("AWS::EC2::Instance").values()
    lines = instance["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"][1]

    def line(part) -> str:
        if isinstance(part, str):
            assert "${" not in part or not re.search(r"\$\{[A-Za-z]+::?[A-Za-z]*\}", part), part
            return part
        text = part["Fn::Sub"]
        for name in re.findall(r"\$\{([A-Za-z:]+)\}", text):
            text = text.replace("${" + name + "}", SAMPLE[name])  # KeyError: a parameter the test does not know
        return text

    return "\n".join(line(p) for p in lines)


def heredoc(script: str, path: str) -> str:
    """The text user data writes to `path` with cat >path <<'END'."""
    found = re.search(r"cat >" + re.escape(path) + r" <<'(\w+)'\n(.*?)\n\1\n", script, re.S)
    assert found, f"user data writes no {path}"
    return found.group(2)


def unit(script: str, name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in heredoc(script, f"/etc/systemd/system/{name}").splitlines():
        if "=" in line and not line.startswith("["):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_only_https_is_open_to_the_world_and_there_is_no_ssh():
    [group] = of_type("AWS::EC2::SecurityGroup").values()
    ingress = group["Properties"]["SecurityGroupIngress"]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ingress] == [("tcp", 443, 443)]
    assert not of_type("AWS::EC2::SecurityGroupIngress"), "every rule stays in the group, where this test reads it"
    assert [(r["FromPort"], r["ToPort"]) for r in group["Properties"]["SecurityGroupEgress"]] == [(443, 443)]
    [instance] = of_type("AWS::EC2::Instance").values()
    assert "KeyName" not in instance["Properties"], "admin is through Session Manager: no SSH key"
    assert "sshd" not in user_data() and ":22" not in json.dumps(HOST)


def test_the_instance_requires_imdsv2_through_its_launch_template():
    [(template_name, template)] = of_type("AWS::EC2::LaunchTemplate").items()
    options = template["Properties"]["LaunchTemplateData"]["MetadataOptions"]
    assert options["HttpTokens"] == "required" and options["HttpPutResponseHopLimit"] == 1
    for instance in of_type("AWS::EC2::Instance").values():
        assert instance["Properties"]["LaunchTemplate"]["LaunchTemplateId"] == {"Ref": template_name}
        assert instance["Properties"]["InstanceType"] == "t4g.small"
        assert instance["Properties"]["ImageId"] == {"Ref": "ImageId"}


def test_a_stack_update_keeps_the_image_so_the_instance_and_its_database_stay():
    image = HOST["Parameters"]["ImageId"]
    # An SSM-typed parameter (or {{resolve:ssm:...}}) is read again on every update: a newer AMI would replace the
    # instance, and the Prefect database on its volume with it. The operator reads the SSM parameter once instead.
    assert image["Type"] == "AWS::EC2::Image::Id" and "Default" not in image
    assert "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" in image["Description"]
    assert "resolve:ssm" not in json.dumps(HOST)


def test_every_volume_is_encrypted_gp3_and_snapshotted_daily():
    [template] = of_type("AWS::EC2::LaunchTemplate").values()
    data = template["Properties"]["LaunchTemplateData"]
    volumes = [m["Ebs"] for m in data["BlockDeviceMappings"]]
    assert volumes and all(v["Encrypted"] is True and v["VolumeType"] == "gp3" for v in volumes)
    assert all(v["Properties"].get("Encrypted") is True for v in of_type("AWS::EC2::Volume").values())
    [instance] = of_type("AWS::EC2::Instance").values()
    assert "BlockDeviceMappings" not in instance["Properties"], "volumes come from the launch template only"
    volume_tags = {t["Key"]: t["Value"] for spec in data["TagSpecifications"] if spec["ResourceType"] == "volume"
                   for t in spec["Tags"]}
    [policy] = of_type("AWS::DLM::LifecyclePolicy").values()
    details = policy["Properties"]["PolicyDetails"]
    assert details["ResourceTypes"] == ["VOLUME"] and policy["Properties"]["State"] == "ENABLED"
    assert all(volume_tags.get(t["Key"]) == t["Value"] for t in details["TargetTags"]), "the policy finds the volume"
    assert details["Schedules"][0]["CreateRule"] == {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:10"]}


def test_no_secret_value_is_in_the_template():
    text = json.dumps(HOST)
    assert not of_type("AWS::SecretsManager::Secret"), "the auth string is the main stack's PrefectApiKeySecret"
    assert not any(p.get("NoEcho") for p in HOST["Parameters"].values()), "no secret passes as a parameter"
    assert not re.search(r"(?i)(password|passwd|api_key|secret_key)\s*[=:]\s*\S", user_data())
    # The auth string is set from the secret read at start, never written as a value.
    settings = [line for line in user_data().splitlines() if "API_AUTH_STRING=" in line]
    assert settings and all("'%s'" in line for line in settings), settings
    assert "get-secret-value" in user_data() and "PrefectApiKeySecretArn" in text
    auth = heredoc(user_data(), "/usr/local/sbin/iag-prefect-auth")
    assert "/run/iag/auth.env" in auth and "umask 077" in auth, "kept in memory, readable by its owner only"
    for name in ("prefect-server.service", "prefect-worker.service"):
        assert "/run/iag/auth.env" in unit(user_data(), name)["EnvironmentFile"]


def _canonical(resource, names: dict[str, str]) -> str:
    """One ARN text for the same resource, however each template names it."""
    if isinstance(resource, dict) and "Ref" in resource:
        return names[resource["Ref"]]
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return names[".".join(resource["Fn::GetAtt"])]
    text = resource["Fn::Sub"] if isinstance(resource, dict) else resource
    for name, value in names.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, text
    return text


def _grants(statements: list[dict], names: dict[str, str]) -> set[tuple[str, str]]:
    pairs = set()
    for statement in statements:
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        pairs |= {(a, _canonical(r, names)) for a in actions for r in resources}
    return pairs


def test_the_role_grants_what_a_flow_run_on_ecs_may_do_and_nothing_more():
    common = {"AWS::Partition": "aws", "AWS::Region": "R", "AWS::AccountId": "A", "NotifySecretsPrefix": "N/",
              "SenderDomain": "D"}
    table = "arn:aws:dynamodb:R:A:table/iag-backoffice"
    main_names = {**common, "ApplicationsTable.Arn": table, "DocumentsBucket.Arn": "arn:aws:s3:::DOCS",
                  "FlowResultsBucket.Arn": "arn:aws:s3:::RESULTS", "FeedbackConfigurationSet": "STACK-feedback",
                  "PrefectApiKeySecret": "SECRET"}
    host_names = {**common, "DocumentsBucketName": "DOCS", "FlowResultsBucketName": "RESULTS",
                  "MainStackName": "STACK", "PrefectApiKeySecretArn": "SECRET"}
    assert MAIN["Resources"]["ApplicationsTable"]["Properties"]["TableName"] == "iag-backoffice"
    [flow_policy] = MAIN["Resources"]["FlowTaskRole"]["Properties"]["Policies"]
    [role] = [r for r in of_type("AWS::IAM::Role").values()
              if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == "ec2.amazonaws.com"]
    host_statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert _grants(host_statements, host_names) == _grants(flow_policy["PolicyDocument"]["Statement"], main_names)
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}]
    assert not of_type("AWS::IAM::Policy") and not of_type("AWS::IAM::ManagedPolicy"), "no grant elsewhere"


def test_the_user_data_pins_prefect_and_starts_database_server_proxy_and_worker():
    script = user_data()
    pinned = re.search(r"^prefect==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert re.search(r"^PREFECT_VERSION=(\S+)$", script, re.M).group(1) == pinned == "3.8.8"
    assert '"prefect==$PREFECT_VERSION"' in script and 'grep -q "$PREFECT_VERSION"' in script
    assert "postgresql16-server" in script and "listen_addresses = ''" in script, "PostgreSQL on its socket only"
    started = {name for names in re.findall(r"^systemctl enable --now (.+)$", script, re.M) for name in names.split()}
    assert started >= {"postgresql", "prefect-server.service", "caddy.service", "prefect-worker.service"}
    prefect_env = heredoc(script, "/etc/iag/prefect.env")
    assert "PREFECT_SERVER_DATABASE_CONNECTION_URL=postgresql+asyncpg://" in prefect_env
    assert f"PREFECT_UI_API_URL=https://{SAMPLE['PrefectDomain']}/api" in prefect_env
    server = unit(script, "prefect-server.service")
    assert server["ExecStart"] == ["/opt/iag/venv/bin/prefect server start --host 127.0.0.1 --port 4200"]
    assert "postgresql.service" in server["Requires"][0] and server["User"] == ["iag"]
    caddy = heredoc(script, "/etc/caddy/Caddyfile")
    assert f"{SAMPLE['PrefectDomain']} {{" in caddy and "reverse_proxy 127.0.0.1:4200" in caddy
    assert re.search(r'echo "\$CADDY_SHA512  /tmp/caddy.tar.gz" \| sha512sum -c -', script), "Caddy is verified"
    worker = unit(script, "prefect-worker.service")
    assert worker["ExecStart"] == ["/opt/iag/venv/bin/prefect worker start --pool iag-local --type process --limit 4"]
    assert worker["WorkingDirectory"] == ["/opt/iag-backoffice"], "prefect.yaml's pull step runs the flows there"
    deploy = heredoc(script, "/usr/local/bin/iag-deploy-flows")
    assert 'deploy --name "$name" --pool iag-local' in deploy, "each deployment on the process pool (--all drops --pool)"
    assert 'bucket_name="results-bucket"' in deploy and "iag-deploy-flows" in script.split("SCRIPT\n")[-1]
    flows_env = heredoc(script, "/etc/iag/flows.env")
    assert "IAG_PREFECT_AUTH=auth-string" in flows_env and "IAG_STAGE=prod" in flows_env


# Memory on a t4g.small (2,048 MiB), in MiB. Measured here (x86-64, Python 3.11): importing the flows and Prefect
# takes 98-99 MB of RSS, Prefect's server module alone 160 MB. Allowed with room: a flow run 200 (its client and
# data on top of the imports), the worker 150; the server 450, PostgreSQL 150, Caddy 50 and the OS with the SSM
# agent 300 must fit beside the worker's cap.
RUN_MB, WORKER_MB, OTHERS_MB, INSTANCE_MB = 200, 150, 450 + 150 + 50 + 300, 2048


def test_the_worker_limit_and_its_memory_cap_fit_a_two_gigabyte_instance():
    worker = unit(user_data(), "prefect-worker.service")
    cap = int(worker["MemoryMax"][0].removesuffix("M"))
    limit = HOST["Parameters"]["FlowRunLimit"]
    assert WORKER_MB + limit["Default"] * RUN_MB <= cap, "the default limit's runs fit under the worker's cap"
    assert cap + OTHERS_MB <= INSTANCE_MB, "the cap leaves the server, database and proxy their memory"
    assert WORKER_MB + limit["MaxValue"] * RUN_MB <= cap + 1024, "the largest limit fits with the 1 GiB of swap"
    assert "--limit ${FlowRunLimit}" in json.dumps(HOST), "the worker takes its limit from the parameter"
    assert worker["OOMPolicy"] == ["continue"], "a run killed at the cap takes neither the worker nor the others"


def test_the_api_url_output_is_what_the_main_stack_takes():
    url = _canonical(HOST["Outputs"]["PrefectApiUrl"]["Value"], {"PrefectDomain": SAMPLE["PrefectDomain"]})
    assert re.match(MAIN["Parameters"]["PrefectApiUrl"]["AllowedPattern"], url) and url.endswith("/api")
    # The function then sends the same secret as the server's auth string (HTTP Basic), when told so.
    assert MAIN["Parameters"]["PrefectAuth"]["AllowedValues"] == ["api-key", "auth-string"]
    assert MAIN["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]["IAG_PREFECT_AUTH"] == {
        "Ref": "PrefectAuth"}


def test_the_user_data_and_the_script_it_writes_are_valid_bash(tmp_path):
    script = tmp_path / "user-data.sh"
    script.write_text(user_data())
    auth = tmp_path / "iag-prefect-auth"
    auth.write_text(heredoc(user_data(), "/usr/local/sbin/iag-prefect-auth"))
    deploy = tmp_path / "iag-deploy-flows"
    deploy.write_text(heredoc(user_data(), "/usr/local/bin/iag-deploy-flows"))
    for path in (script, auth, deploy):
        checked = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed on this machine")
def test_shellcheck_finds_nothing_in_the_user_data_nor_the_script_it_writes(tmp_path):
    script = tmp_path / "user-data.sh"
    script.write_text(user_data())
    written = [tmp_path / "iag-prefect-auth", tmp_path / "iag-deploy-flows"]
    written[0].write_text(heredoc(user_data(), "/usr/local/sbin/iag-prefect-auth"))
    written[1].write_text(heredoc(user_data(), "/usr/local/bin/iag-deploy-flows"))
    checked = subprocess.run(["shellcheck", "--shell=bash", str(script), *map(str, written)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def _run_auth_script(tmp_path: Path, secret: str) -> tuple[subprocess.CompletedProcess, Path]:
    """The auth script as the instance runs it, with a stand-in `aws` and /run/iag moved under tmp_path (the
    iag user does not exist here, so its chown is left out)."""
    run_dir = tmp_path / "run-iag"
    script = heredoc(user_data(), "/usr/local/sbin/iag-prefect-auth").replace("/run/iag", str(run_dir))
    script = script.replace(" -o iag -g iag", "").replace("chown iag:iag", "true")
    (tmp_path / "bin").mkdir()
    fake_aws = tmp_path / "bin" / "aws"
    fake_aws.write_text('#!/bin/bash\n[[ "$*" == *"--secret-id ' + SAMPLE["PrefectApiKeySecretArn"]
                        + '"* ]] || exit 254\nprintf "%s\\n" "$FAKE_SECRET"\n')
    fake_aws.chmod(0o755)
    (tmp_path / "auth").write_text(script)
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "FAKE_SECRET": secret}
    done = subprocess.run(["bash", str(tmp_path / "auth")], env=env, capture_output=True, text=True, timeout=30)
    return done, run_dir / "auth.env"


def test_the_auth_string_reaches_server_and_worker_exactly_and_readable_by_their_user_only(tmp_path):
    secret = 'iag:Aa1 $HOME "x" \\ `id`'  # a shell or systemd that expanded anything would change it
    done, env_file = _run_auth_script(tmp_path, secret)
    assert done.returncode == 0, done.stderr
    assert env_file.stat().st_mode & 0o777 == 0o600
    read_back = subprocess.run(["bash", "-c", f'set -a; . "{env_file}"; printf "%s|%s" '
                                '"$PREFECT_SERVER_API_AUTH_STRING" "$PREFECT_API_AUTH_STRING"'],
                               capture_output=True, text=True)
    assert read_back.stdout == f"{secret}|{secret}"


def test_an_auth_string_that_cannot_be_written_safely_is_refused_and_nothing_is_written(tmp_path):
    done, env_file = _run_auth_script(tmp_path, "it's")
    assert done.returncode != 0 and "single quote" in done.stderr and not env_file.exists()


# Every resource of the template, by type: the idle table's line that prices it, or why it costs nothing.
PRICED_AS = {"AWS::EC2::Instance": "EC2 t4g.small", "AWS::EC2::LaunchTemplate": "EBS gp3",
             "AWS::DLM::LifecyclePolicy": "EBS snapshots", "AWS::EC2::EIP": "Elastic IP"}
FREE = {"AWS::IAM::Role": "IAM is free", "AWS::IAM::InstanceProfile": "IAM is free",
        "AWS::EC2::SecurityGroup": "security groups are free"}


def test_the_cost_bench_prices_every_part_the_template_deploys():
    spec = importlib.util.spec_from_file_location("bench_cost", ROOT / "bench" / "cost.py")
    cost = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cost)
    lines = cost.idle_month()[cost.ON_INSTANCE]
    for name, resource in RESOURCES.items():
        kind = resource["Type"]
        assert kind in PRICED_AS or kind in FREE, f"{name} ({kind}) is neither priced in bench/cost.py nor free"
        if kind in PRICED_AS:
            [line] = [line for line in lines if line.startswith(PRICED_AS[kind])]
            assert lines[line] > 0, line
    assert "infra/prefect-host.json" in cost.ON_INSTANCE
    assert not any(line.startswith(("ECR", "CloudWatch")) for line in lines), "the instance uses neither"
