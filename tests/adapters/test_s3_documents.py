"""Onboarding documents in S3 (moto): published privately, linked for a limited time, fingerprinted by version."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from moto import mock_aws

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.s3_documents import CONTENT_TYPE, DocumentMissing, S3Documents

DOCUMENTS = Path(__file__).resolve().parents[2] / "infra" / "documents"
BUCKET = "iag-documents-test"
REGION = "eu-west-2"
NAMED = [(profile.id, document) for profile in FileForceCatalogue().all() for document in profile.onboarding.documents]


@pytest.fixture
def s3():
    with mock_aws():
        yield boto3.client("s3", region_name=REGION)


@pytest.fixture
def documents(s3):
    store = S3Documents(BUCKET, REGION)
    store.ensure_bucket()
    return store


def repository_files() -> list[Path]:
    return sorted(p for p in DOCUMENTS.glob("*/*") if p.is_file())


def test_publishing_uploads_every_repository_document_as_encrypted_html(documents, s3):
    assert documents.publish(DOCUMENTS) == len(repository_files()) > 0

    for path in repository_files():
        stored = s3.get_object(Bucket=BUCKET, Key=f"documents/{path.parent.name}/{path.name}")
        assert stored["Body"].read() == path.read_bytes()
        assert stored["ContentType"] == "text/html; charset=utf-8"
        assert stored["ServerSideEncryption"] == "AES256"


def test_a_link_is_signed_for_the_document_and_expires_when_asked(documents):
    url = urlsplit(documents.url("avon-and-somerset", "confidentiality-agreement.html", expires_in=600))
    query = {name: values[0] for name, values in parse_qs(url.query).items()}

    assert url.scheme == "https" and url.netloc == f"{BUCKET}.s3.{REGION}.amazonaws.com"
    assert url.path == "/documents/avon-and-somerset/confidentiality-agreement.html"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert f"/{REGION}/s3/aws4_request" in query["X-Amz-Credential"]
    assert query["X-Amz-Expires"] == "600"
    assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"])
    assert query["response-content-type"] == CONTENT_TYPE


def test_the_link_serves_the_file_in_the_repository_as_html(documents, s3):
    documents.publish(DOCUMENTS)
    path = DOCUMENTS / "avon-and-somerset" / "code-of-ethics.html"

    response = requests.get(documents.url("avon-and-somerset", "code-of-ethics.html", expires_in=600), timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert response.content == path.read_bytes()
    key = documents.key("avon-and-somerset", "code-of-ethics.html")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == path.read_bytes()


def test_the_fingerprint_names_the_etag_and_version_of_the_file_shown(documents, s3):
    documents.publish(DOCUMENTS)
    head = s3.head_object(Bucket=BUCKET, Key="documents/derbyshire/confidentiality-agreement.html")

    fingerprint = documents.fingerprint("derbyshire", "confidentiality-agreement.html")

    assert fingerprint == f"etag:{head['ETag'].strip(chr(34))} version:{head['VersionId']}"


def test_the_fingerprint_changes_when_the_document_is_replaced(documents, s3):
    documents.publish(DOCUMENTS)
    before = documents.fingerprint("derbyshire", "confidentiality-agreement.html")

    s3.put_object(Bucket=BUCKET, Key=documents.key("derbyshire", "confidentiality-agreement.html"),
                  Body=b"<!DOCTYPE html><title>Revised</title>", ContentType=CONTENT_TYPE)
    after = documents.fingerprint("derbyshire", "confidentiality-agreement.html")

    assert before != after
    assert before.split()[0] != after.split()[0] and before.split()[1] != after.split()[1]
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="documents/derbyshire/confidentiality-agreement.html")
    assert len(versions["Versions"]) == 2  # the version a member signed is still there to show


def test_the_fingerprint_of_a_document_never_published_raises_document_missing(documents):
    with pytest.raises(DocumentMissing) as missing:
        documents.fingerprint("derbyshire", "code-of-ethics.html")

    assert missing.value.key == "documents/derbyshire/code-of-ethics.html"


def test_the_bucket_is_private_versioned_and_encrypted_however_often_it_is_ensured(documents, s3):
    documents.ensure_bucket()

    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [ownership] = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert ownership["ObjectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("force_id, document", NAMED, ids=[f"{f}/{d.file}" for f, d in NAMED])
def test_every_document_a_profile_names_is_a_standalone_page_showing_its_version(force_id, document):
    path = DOCUMENTS / force_id / document.file
    assert path.is_file(), f"{force_id} names {document.file}, which is not under infra/documents/{force_id}/"
    html = path.read_text(encoding="utf-8")

    assert f"Version {document.version}" in html
    assert re.search(r"<title>[^<]*\S[^<]*</title>", html)
    assert '<html lang="en-GB">' in html and '<meta charset="utf-8">' in html
    assert not re.search(r"<script|<link|\bsrc=|href=\"https?:|url\(", html, re.IGNORECASE), "no external resources"
    if document.to_sign:
        assert "By signing this agreement through the link in your email you confirm" in html


def test_every_file_under_infra_documents_is_named_by_its_force_profile():
    named = {(force_id, document.file) for force_id, document in NAMED}
    assert {(p.parent.name, p.name) for p in repository_files()} <= named


def test_a_local_endpoint_gets_path_style_links_it_can_resolve():
    local = S3Documents(BUCKET, REGION, endpoint_url="http://127.0.0.1:9")

    url = local.url("thames-valley", "terms-of-reference.html", expires_in=60)

    assert url.startswith(f"http://127.0.0.1:9/{BUCKET}/documents/thames-valley/terms-of-reference.html?")
