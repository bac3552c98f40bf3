"""Onboarding documents (Terms of Reference, agreements) in a private, versioned S3 bucket.

Key: documents/<force-id>/<file>. Members get short-lived presigned links; the bucket itself is never public.
"""
from __future__ import annotations

from chalicelib.services.ports import DocumentUnavailable

from functools import cached_property
from pathlib import Path
from typing import Any, Optional

CONTENT_TYPE = "text/html; charset=utf-8"
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


class DocumentMissing(DocumentUnavailable):
    """The profile names a document that was never published: a member must not be asked to sign nothing."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


class S3Documents:
    def __init__(self, bucket: str, region: str, endpoint_url: Optional[str] = None):
        self._bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url

    @cached_property
    def _client(self):
        import boto3  # on first use only, as in ses_mailer
        from botocore.config import Config

        # SigV4 links (eu-west-2 accepts nothing else) on the regional host, not the global one that may
        # redirect for a day after a bucket is created; path-style for a local endpoint (no <bucket>.localhost).
        style = "path" if self._endpoint_url else "virtual"
        config = Config(signature_version="s3v4", s3={"addressing_style": style})
        return boto3.client("s3", region_name=self._region, endpoint_url=self._endpoint_url, config=config)

    @staticmethod
    def key(force_id: str, file: str) -> str:
        return f"documents/{force_id}/{file}"

    def put_evidence(self, force_id: str, reference: str, name: str, data: bytes, content_type: str) -> str:
        """An applicant's evidence (e.g. of residency), under evidence/<force>/<reference>/: never served publicly.
        A second upload keeps the first (a new key per content), so nothing a person sent is overwritten."""
        import hashlib

        key = f"evidence/{force_id}/{reference}/{hashlib.sha256(data).hexdigest()[:16]}-{name}"
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type,
                                ServerSideEncryption="AES256")
        return key

    def delete_evidence(self, force_id: str, reference: str) -> int:
        """Every file an applicant uploaded for this application; returns how many were deleted."""
        from botocore.exceptions import ClientError

        deleted = 0
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(
                    Bucket=self._bucket, Prefix=f"evidence/{force_id}/{reference}/"):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchBucket":
                raise
        return deleted  # no bucket (a stage that never stored a document): nothing was uploaded

    def url(self, force_id: str, file: str, expires_in: int) -> str:
        """A link that works for expires_in seconds. Signing is local: it does not check the object exists."""
        return self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": self.key(force_id, file), "ResponseContentType": CONTENT_TYPE},
            ExpiresIn=expires_in,
        )

    def put_paper(self, key: str, data: bytes, content_type: str) -> None:
        """A meeting paper into the private bucket (encrypted at rest; never public)."""
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type,
                                ServerSideEncryption="AES256")

    def paper_url(self, key: str, filename: str, expires_in: int) -> str:
        """A short-lived link to one paper, signed here (no request to S3)."""
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key,
                                  "ResponseContentDisposition": f'attachment; filename="{filename}"'},
            ExpiresIn=expires_in)

    def fingerprint(self, force_id: str, file: str) -> str:
        """What a signature records about the file shown: "etag:<etag>[ version:<id>]".

        The version id pins the exact object in a versioned bucket; "null" (an object stored before
        versioning was on) is left out because a later upload replaces it.
        """
        key = self.key(force_id, file)
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except self._client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NOT_FOUND:
                raise DocumentMissing(key) from error
            raise
        fingerprint = "etag:" + head["ETag"].strip('"')
        version = head.get("VersionId")
        if version and version != "null":
            fingerprint += f" version:{version}"
        return fingerprint

    def publish(self, folder: Path) -> int:
        """Upload every <force-id>/<file> under folder; returns how many files were uploaded."""
        files = sorted(p for p in folder.glob("*/*")
                       if p.is_file() and not p.name.startswith(".") and not p.parent.name.startswith("."))
        for path in files:
            self._client.put_object(
                Bucket=self._bucket, Key=self.key(path.parent.name, path.name), Body=path.read_bytes(),
                ContentType=CONTENT_TYPE, ServerSideEncryption="AES256",
            )
        return len(files)

    def ensure_bucket(self) -> None:
        """The bucket as infra/resources.json declares it, for the local stack and first deploys."""
        client = self._client
        try:
            client.head_bucket(Bucket=self._bucket)
        except client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _NOT_FOUND:
                raise
            arguments: dict[str, Any] = {"Bucket": self._bucket}
            if self._region != "us-east-1":  # the one region that refuses a LocationConstraint
                arguments["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
            try:
                client.create_bucket(**arguments)
            except client.exceptions.BucketAlreadyOwnedByYou:
                pass
        client.put_public_access_block(Bucket=self._bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        })
        client.put_bucket_ownership_controls(Bucket=self._bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        client.put_bucket_versioning(Bucket=self._bucket, VersioningConfiguration={"Status": "Enabled"})
        client.put_bucket_encryption(Bucket=self._bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
