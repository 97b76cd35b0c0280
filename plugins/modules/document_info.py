#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: document_info
short_description: List AWS Systems Manager documents, or read one with its versions and content
version_added: 0.1.0
description:
  - Without O(name), lists the documents AWS returns for the filters (C(ListDocuments)) - the account's own, AWS's,
    shared or public ones.
  - With O(name), reads one document; its metadata at a version, every version of it (C(ListDocumentVersions)),
    the accounts it is shared with when the account owns it, and the content of that version.
author:
  - FleetOps SSM maintainers (@fleetops)
requirements:
  - PyYAML
options:
  name:
    description:
      - The document to read, by name or by ARN (documents shared by another account are known by their ARN).
      - A document that does not exist gives an empty RV(documents).
    type: str
  version:
    description:
      - With O(name), the version to describe and read the content of; a version number, V($LATEST), V($DEFAULT)
        or a version name. Defaults to the default version.
    type: str
  include_content:
    description: With O(name), return the content of the version.
    type: bool
    default: true
  owner:
    description:
      - List documents of this owner; V(Self) (the account's own), V(Amazon), V(Public), V(Private) (the account's
        own and those shared with it), V(ThirdParty), V(All), or an AWS account id.
      - AWS lists every document the account can use when unset.
    type: str
  document_types:
    description: List documents of these types only.
    type: list
    elements: str
    choices: [Command, Policy, Automation, Session, Package, ApplicationConfiguration, ApplicationConfigurationSchema,
              DeploymentStrategy, ChangeCalendar, Automation.ChangeTemplate, ProblemAnalysis, ProblemAnalysisTemplate,
              CloudFormation, ConformancePackTemplate, QuickSetup, ManualApprovalPolicy, AutoApprovalPolicy]
  name_prefix:
    description: List documents whose name starts with this.
    type: str
  platform_types:
    description: List documents that run on one of these operating systems.
    type: list
    elements: str
    choices: [Windows, Linux, MacOS]
  tags:
    description:
      - List documents carrying all these tags. A null value matches any value of the tag.
    type: dict
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:ListDocuments), and with O(name) C(ssm:DescribeDocument),
    C(ssm:ListDocumentVersions), C(ssm:DescribeDocumentPermission) and C(ssm:GetDocument).
seealso:
  - module: fleetops.ssm.document
"""

EXAMPLES = r"""
- name: The account's own Command documents
  fleetops.ssm.document_info:
    owner: Self
    document_types: [Command]
  register: own

- name: The team's documents, by tag and name prefix
  fleetops.ssm.document_info:
    name_prefix: platform-
    tags:
      team: platform

- name: One document, every version, and the content of its default version
  fleetops.ssm.document_info:
    name: restart-app
  register: restart_app

- name: The content of one version, by its version name
  fleetops.ssm.document_info:
    name: restart-app
    version: release-42
"""

RETURN = r"""
documents:
  description:
    - The documents found, sorted by name; with O(name), that one document (or none).
    - Entries of a listing have the fields C(ListDocuments) returns; the one document of O(name) has the fields of
      C(DescribeDocument) and the ones marked below.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name.
      returned: always
      type: str
      sample: restart-app
    owner:
      description: The owner, an account id or V(Amazon).
      returned: always
      type: str
      sample: "123456789012"
    document_type:
      description: The type.
      returned: always
      type: str
      sample: Command
    document_format:
      description: The format.
      returned: always
      type: str
      sample: YAML
    document_version:
      description: The version described (for a listing, the default version).
      returned: always
      type: str
      sample: "2"
    version_name:
      description: The name of that version.
      returned: when it has one
      type: str
      sample: release-42
    schema_version:
      description: The schema version.
      returned: when the document has one
      type: str
      sample: "2.2"
    platform_types:
      description: The operating systems the document runs on.
      returned: always
      type: list
      elements: str
      sample: ["Linux", "MacOS"]
    target_type:
      description: The resource type the document runs on.
      returned: when set
      type: str
      sample: /AWS::EC2::Instance
    tags:
      description: The tags, as a dict.
      returned: always
      type: dict
      sample: {"team": "platform"}
    created_date:
      description: When the document (or, with O(name), the version) was created (ISO 8601).
      returned: always
      type: str
      sample: "2026-12-06T22:00:12.692000+00:00"
    status:
      description: The status of the version.
      returned: with O(name)
      type: str
      sample: Active
    hash:
      description: The SHA-256 hash of the version's content.
      returned: with O(name)
      type: str
      sample: 0eb5feadd0a733cc8e2a3026f40873da8e02b0e41145d99cb291d41a4d0230e3
    default_version:
      description: The default version.
      returned: with O(name)
      type: str
      sample: "2"
    default_version_name:
      description: The name of the default version; null when it has none.
      returned: with O(name)
      type: str
      sample: release-42
    latest_version:
      description: The latest version.
      returned: with O(name)
      type: str
      sample: "3"
    parameters:
      description: The parameters the version declares.
      returned: with O(name)
      type: list
      elements: dict
      sample: [{"name": "service", "type": "String", "default_value": "app"}]
    permissions:
      description: The accounts the document is shared with (V(all) when public).
      returned: with O(name), for documents the account owns
      type: list
      elements: str
      sample: ["111122223333"]
    versions:
      description: Every version, oldest first.
      returned: with O(name)
      type: list
      elements: dict
      sample: [{"document_version": "1", "version_name": "release-41", "is_default_version": false,
                "status": "Active", "document_format": "YAML", "created_date": "2026-12-06T22:00:12.692000+00:00"}]
    content:
      description: The content of the version; a mapping for JSON and YAML documents, the text of a change calendar.
      returned: with O(name) and O(include_content=true)
      type: raw
      sample: {"schemaVersion": "2.2", "mainSteps": []}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _documents as dm
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule


def list_filters(params):
    """ListDocuments filters (Filters, not the legacy DocumentFilterList) for the options."""
    filters = []
    if params["owner"]:
        filters.append({"Key": "Owner", "Values": [params["owner"]]})
    if params["document_types"]:
        filters.append({"Key": "DocumentType", "Values": list(params["document_types"])})
    if params["name_prefix"]:
        filters.append({"Key": "Name", "Values": [params["name_prefix"]]})
    if params["platform_types"]:
        filters.append({"Key": "PlatformTypes", "Values": list(params["platform_types"])})
    for key, value in (params["tags"] or {}).items():
        filters.append({"Key": f"tag:{key}", "Values": [] if value is None else [str(value)]})
    return filters


def read_one(client, name, version, include_content):
    """The document at the version, with its versions, sharing and content; None when it does not exist."""
    description = dm.describe_document(client, name, version)
    if description is None:
        return None
    versions = dm.list_document_versions(client, name) or []
    owned = description.get("Owner") != "Amazon"
    permissions = dm.sharing_of(client, name) if owned else None
    content = None
    if include_content:
        stored = dm.get_document(client, name, description["DocumentVersion"]) or {}
        text, fmt = stored.get("Content"), stored.get("DocumentFormat")
        content = dm.content_for_display(dm.parse_stored(text, fmt) if text is not None else None, text, fmt)
    result = dm.document_to_ansible(description, versions, permissions, content, include_content)
    result["versions"] = dm.versions_to_ansible(versions)
    return result


def main():
    argument_spec = dict(
        name=dict(type="str"),
        version=dict(type="str"),
        include_content=dict(type="bool", default=True),
        owner=dict(type="str"),
        document_types=dict(type="list", elements="str", choices=list(dm.DOCUMENT_TYPES)),
        name_prefix=dict(type="str"),
        platform_types=dict(type="list", elements="str", choices=["Windows", "Linux", "MacOS"]),
        tags=dict(type="dict"),
    )
    module = FleetOpsSSMModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[(option, "name") for option in ("owner", "document_types", "name_prefix", "platform_types", "tags")],
        required_by={"version": "name"},
    )
    dm.check_yaml(module)
    params = module.params
    client = module.client("ssm")
    documents = []
    try:
        if params["name"]:
            found = read_one(client, params["name"], params["version"], params["include_content"])
            documents = [found] if found else []
        else:
            identifiers = dm.list_documents(client, list_filters(params))
            documents = sorted((dm.identifier_to_ansible(item) for item in identifiers), key=lambda item: item["name"])
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(documents=documents)


if __name__ == "__main__":
    main()
