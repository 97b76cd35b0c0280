# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test helpers: a real SSM client behind botocore's Stubber, and SSM response builders.

The Stubber checks every request against botocore's model of the SSM API and every canned
response against the response shape, so a request the service would reject fails the test.
Each request is also recorded, in order, so tests can assert exactly which calls were made.
"""

from __future__ import annotations

import copy
import datetime
import json

import boto3
import botocore.exceptions
from botocore.stub import Stubber

ACCOUNT = "123456789012"
REGION = "us-east-1"
USER = f"arn:aws:iam::{ACCOUNT}:user/deployer"
CIPHERTEXT = "AQICAHhzZmFrZS1jaXBoZXJ0ZXh0LW5vdC1hLXJlYWwtb25l"
WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

WRITE_OPERATIONS = (
    "PutParameter",
    "DeleteParameter",
    "DeleteParameters",
    "LabelParameterVersion",
    "AddTagsToResource",
    "RemoveTagsFromResource",
)


def new_client():
    return boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


class SSMStub:
    """A stubbed SSM client. Queue responses with ``add``/``add_error``; read ``calls`` after."""

    def __init__(self):
        self.client = new_client()
        self.stubber = Stubber(self.client)
        self.calls = []
        self.client.meta.events.register("before-parameter-build.ssm", self._record)

    def _record(self, params, model, **kwargs):
        self.calls.append((model.name, copy.deepcopy(params)))

    def add(self, method, response=None, expected=None):
        self.stubber.add_response(method, response if response is not None else {}, expected)
        return self

    def add_error(self, method, code, message="", expected=None, status=400):
        self.stubber.add_client_error(
            method, service_error_code=code, service_message=message, http_status_code=status, expected_params=expected
        )
        return self

    @property
    def operations(self):
        return [name for name, _params in self.calls]

    @property
    def writes(self):
        return [name for name in self.operations if name in WRITE_OPERATIONS]

    def params(self, operation):
        """The request parameters of every call of one operation, in order."""
        return [params for name, params in self.calls if name == operation]

    def activate(self):
        self.stubber.activate()

    def deactivate(self):
        self.stubber.deactivate()

    def assert_done(self):
        self.stubber.assert_no_pending_responses()

    # -- canned responses, queued in the order the code under test makes the calls ------------

    def get_history(self, name, versions, decrypt=True):
        self.add(
            "get_parameter_history",
            {"Parameters": versions},
            {"Name": name, "WithDecryption": decrypt, "MaxResults": 50},
        )

    def get_history_missing(self, name, decrypt=True):
        self.add_error(
            "get_parameter_history",
            "ParameterNotFound",
            expected={"Name": name, "WithDecryption": decrypt, "MaxResults": 50},
        )

    def get_parameter(self, parameter, decrypt=False):
        self.add("get_parameter", {"Parameter": parameter}, {"Name": parameter["Name"], "WithDecryption": decrypt})

    def list_tags(self, name, tags):
        self.add(
            "list_tags_for_resource",
            {"TagList": [{"Key": key, "Value": value} for key, value in tags.items()]},
            {"ResourceType": "Parameter", "ResourceId": name},
        )

    def describe_existing(self, history_versions, tags=None):
        """The three reads of the parameter module's describe(): history, ARN, tags."""
        newest = max(history_versions, key=lambda item: item["Version"])
        self.get_history(newest["Name"], history_versions)
        value = newest["Value"]
        if newest["Type"] == "SecureString":
            value = CIPHERTEXT  # GetParameter without decryption returns the encrypted value
        self.get_parameter(parameter(newest["Name"], value, newest["Version"], newest["Type"]), decrypt=False)
        self.list_tags(newest["Name"], tags or {})

    def put(self, expected, version=1, tier="Standard"):
        self.add("put_parameter", {"Version": version, "Tier": tier}, expected)

    def by_path(self, path, parameters, recursive=True, decrypt=True, filters=None, next_token=None, token=None):
        expected = {"Path": path, "Recursive": recursive, "WithDecryption": decrypt}
        if filters:
            expected["ParameterFilters"] = filters
        if token:
            expected["NextToken"] = token
        response = {"Parameters": parameters}
        if next_token:
            response["NextToken"] = next_token
        self.add("get_parameters_by_path", response, expected)

    def describe(self, filters, items, next_token=None, token=None):
        expected = {"ParameterFilters": filters, "MaxResults": 50}
        if token:
            expected["NextToken"] = token
        response = {"Parameters": items}
        if next_token:
            response["NextToken"] = next_token
        self.add("describe_parameters", response, expected)


def client_error(code, operation, message=""):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def arn(name):
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def parameter(name, value, version=1, type="String", data_type="text"):
    """A Parameter, as GetParameter, GetParameters and GetParametersByPath return it."""
    return {
        "Name": name,
        "Type": type,
        "Value": value,
        "Version": version,
        "LastModifiedDate": WHEN,
        "ARN": arn(name),
        "DataType": data_type,
    }


def policy_text(kind, **attributes):
    return {
        "PolicyText": json.dumps({"Type": kind, "Version": "1.0", "Attributes": attributes}),
        "PolicyType": kind,
        "PolicyStatus": "Pending",
    }


def history(name, value, version=1, type="String", tier="Standard", labels=None, policies=None, **extra):
    """A ParameterHistory entry, as GetParameterHistory returns it."""
    item = {
        "Name": name,
        "Type": type,
        "Value": value,
        "Version": version,
        "LastModifiedDate": WHEN,
        "LastModifiedUser": USER,
        "Tier": tier,
        "Policies": list(policies or []),
        "DataType": "text",
    }
    if labels:
        item["Labels"] = list(labels)  # AWS leaves out an empty list
    if type == "SecureString":
        item["KeyId"] = "alias/aws/ssm"
    item.update(extra)
    return item


def metadata(name, version=1, type="String", tier="Standard", policies=None, **extra):
    """A ParameterMetadata entry, as DescribeParameters returns it."""
    item = {
        "Name": name,
        "ARN": arn(name),
        "Type": type,
        "LastModifiedDate": WHEN,
        "LastModifiedUser": USER,
        "Version": version,
        "Tier": tier,
        "Policies": list(policies or []),
        "DataType": "text",
    }
    if type == "SecureString":
        item["KeyId"] = "alias/aws/ssm"
    item.update(extra)
    return item
