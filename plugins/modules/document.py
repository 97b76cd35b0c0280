#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: document
short_description: Manage an AWS Systems Manager document, its versions, default version, sharing and tags
version_added: 0.1.0
description:
  - Create, update and delete an SSM document (a Command document, an Automation runbook, a Session document,
    a change calendar and every other type AWS supports) from content kept as code.
  - An update creates a new document version only when the content changes semantically. Key order, YAML versus
    JSON and whitespace do not count, so the same document written as YAML or as JSON, or reformatted, is not a
    change. The content is compared with the latest version.
  - O(default_version) chooses the version that runs when no version is named; setting it to an earlier version
    rolls the document back.
  - O(permissions) shares the document with other accounts, or publicly.
  - The content is checked before any API call; it parses, declares C(schemaVersion), stays within AWS's 64 KB
    limit, and Command documents have C(mainSteps) (or C(runtimeConfig) for schema 1.2).
  - A new version is waited for until AWS reports it V(Active); a V(Failed) version fails the task with AWS's
    reason (C(StatusInformation)).
author:
  - FleetOps SSM maintainers (@fleetops)
requirements:
  - PyYAML
options:
  name:
    description:
      - The name of the document, 3 to 128 letters, digits, V(_), V(-) or V(.).
      - Names starting with V(aws), V(amazon) or V(amzn) (in any case) are AWS's.
    type: str
    required: true
  content:
    description:
      - The document, as a mapping or as YAML or JSON text. Change calendars (O(document_type=ChangeCalendar)) are
        iCalendar text.
      - Required to create a document. Left unset, the content of an existing document is left alone.
      - Mutually exclusive with O(src).
    type: raw
  src:
    description:
      - A file on the controller holding the document (YAML, JSON, or iCalendar text for change calendars). A
        relative path is looked up in the C(files) directories of the role and playbook, as M(ansible.builtin.copy)
        does; vault-encrypted files are decrypted.
      - Mutually exclusive with O(content).
    type: path
  document_format:
    description:
      - The format AWS stores the document in.
      - Defaults to the format of O(content) or O(src) (JSON for a mapping). The content is converted when the
        format differs; a change of format alone does not create a version.
      - V(TEXT) is for change calendars only.
    type: str
    choices: [JSON, YAML, TEXT]
  document_type:
    description:
      - The type of document. AWS uses V(Command) when a document is created without one.
      - AWS cannot change the type of a document; a different type for an existing document is an error.
    type: str
    choices: [Command, Policy, Automation, Session, Package, ApplicationConfiguration, ApplicationConfigurationSchema,
              DeploymentStrategy, ChangeCalendar, Automation.ChangeTemplate, ProblemAnalysis, ProblemAnalysisTemplate,
              CloudFormation, ConformancePackTemplate, QuickSetup, ManualApprovalPolicy, AutoApprovalPolicy]
  target_type:
    description:
      - The resource type the document can run on, for example V(/AWS::EC2::Instance), or V(/) for every type.
      - A different target type for an existing document creates a new version.
    type: str
  version_name:
    description:
      - A name for the version this task creates, for example V(release-12.6). AWS keeps version names unique
        within a document and never renames a version.
      - It names new versions only. When the content is unchanged the latest version keeps its name, and the task
        warns when that name differs.
    type: str
  requires:
    description:
      - Documents this document depends on (for example the C(ApplicationConfigurationSchema) document an
        C(ApplicationConfiguration) document is validated against).
      - AWS sets them when the document is created only; different requirements for an existing document are an
        error.
    type: list
    elements: dict
    suboptions:
      name:
        description: The name of the required document.
        type: str
        required: true
      version:
        description: Its version.
        type: str
      require_type:
        description: The type of the required document, for example V(ApplicationConfigurationSchema).
        type: str
      version_name:
        description: The version name of the required document.
        type: str
  default_version:
    description:
      - The version that runs when none is named.
      - V(latest) makes the latest version (the one this task created, if any) the default.
      - V(keep) leaves the default alone; a new version then waits until it is made the default.
      - A version number or a version name makes that version the default, which is how a document is rolled back.
        The version must exist, or be the one this task creates with O(version_name).
    type: str
    default: latest
  permissions:
    description:
      - The AWS account ids the document is shared with, or V(all) alone to share it publicly.
      - With O(purge_permissions=true) the document is unshared from every account not listed; V([]) unshares it.
      - Left unset, sharing is left alone.
    type: list
    elements: str
  purge_permissions:
    description: Unshare the document from accounts not in O(permissions).
    type: bool
    default: true
  version:
    description:
      - With O(state=absent), delete only this version (a number or a version name) instead of the whole
        document. AWS does not delete the default version.
    type: str
  return_content:
    description: Return the content of the latest version in RV(document.content).
    type: bool
    default: false
  wait_timeout:
    description: How many seconds to wait for a new version to become V(Active).
    type: int
    default: 300
  state:
    description:
      - Whether the document should exist. V(absent) deletes every version, or one with O(version).
      - AWS does not delete a shared document; unshare it first with O(permissions=[]).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - fleetops.ssm.attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts the document without writing, including the number of the version an update would create.
  diff_mode:
    support: full
    details:
      - Shows the document's settings and the content of its latest version as YAML, before and after.
  idempotent:
    support: full
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - The action plugin reads O(src) on the controller.
notes:
  - IAM actions used are C(ssm:DescribeDocument), C(ssm:GetDocument), C(ssm:ListDocumentVersions),
    C(ssm:CreateDocument), C(ssm:UpdateDocument), C(ssm:UpdateDocumentDefaultVersion), C(ssm:DeleteDocument),
    C(ssm:DescribeDocumentPermission), C(ssm:ModifyDocumentPermission), C(ssm:AddTagsToResource) and
    C(ssm:RemoveTagsFromResource).
seealso:
  - module: fleetops.ssm.document_info
  - module: fleetops.ssm.command
"""

EXAMPLES = r"""
- name: A Command document kept in the playbook
  fleetops.ssm.document:
    name: restart-app
    document_type: Command
    version_name: release-42
    content:
      schemaVersion: "2.2"
      description: Restart the application service
      parameters:
        service:
          type: String
          default: app
          allowedPattern: "^[a-z][a-z0-9-]*$"
      mainSteps:
        - action: aws:runShellScript
          name: restart
          inputs:
            runCommand:
              - systemctl restart {{ '{{' }} service {{ '}}' }}
    tags:
      team: platform

- name: The same document from a file of the role, shared with two accounts
  fleetops.ssm.document:
    name: restart-app
    src: restart-app.yml
    permissions:
      - "111122223333"
      - "444455556666"

- name: Add a version without making it the default yet
  fleetops.ssm.document:
    name: restart-app
    src: restart-app-v2.yml
    version_name: release-43
    default_version: keep

- name: Roll back to the release-42 version
  fleetops.ssm.document:
    name: restart-app
    default_version: release-42

- name: Delete one old version
  fleetops.ssm.document:
    name: restart-app
    version: "1"
    state: absent

- name: Unshare, then delete the document with all its versions
  block:
    - name: Unshare
      fleetops.ssm.document:
        name: restart-app
        permissions: []
    - name: Delete
      fleetops.ssm.document:
        name: restart-app
        state: absent
"""

RETURN = r"""
document:
  description:
    - The document after the task (predicted in check mode), described at its latest version; empty after the whole
      document is deleted.
  returned: always
  type: dict
  contains:
    name:
      description: The name.
      returned: success
      type: str
      sample: restart-app
    owner:
      description: The account that owns the document.
      returned: success
      type: str
      sample: "123456789012"
    document_type:
      description: The type.
      returned: success
      type: str
      sample: Command
    document_format:
      description: The format AWS stores the latest version in.
      returned: success
      type: str
      sample: YAML
    schema_version:
      description: The schema version of the latest version; null for change calendars.
      returned: success
      type: str
      sample: "2.2"
    description:
      description: The description in the content of the latest version; null when there is none.
      returned: success
      type: str
      sample: Restart the application service
    document_version:
      description: The version described, the latest one.
      returned: success
      type: str
      sample: "3"
    version_name:
      description: The name of the latest version; null when it has none.
      returned: success
      type: str
      sample: release-43
    latest_version:
      description: The latest version.
      returned: success
      type: str
      sample: "3"
    default_version:
      description: The default version.
      returned: success
      type: str
      sample: "2"
    default_version_name:
      description: The name of the default version; null when it has none.
      returned: success
      type: str
      sample: release-42
    status:
      description: The status of the latest version, V(Active) once AWS has processed it.
      returned: success
      type: str
      sample: Active
    status_information:
      description: Why a version is not V(Active); null otherwise.
      returned: success
      type: str
      sample: null
    hash:
      description: The SHA-256 hash AWS computes over the content of the latest version.
      returned: success
      type: str
      sample: 0eb5feadd0a733cc8e2a3026f40873da8e02b0e41145d99cb291d41a4d0230e3
    hash_type:
      description: The hash algorithm.
      returned: success
      type: str
      sample: Sha256
    parameters:
      description: The parameters the latest version declares.
      returned: success
      type: list
      elements: dict
      sample: [{"name": "service", "type": "String", "default_value": "app"}]
    platform_types:
      description: The operating systems the latest version runs on.
      returned: success
      type: list
      elements: str
      sample: ["Linux", "MacOS"]
    target_type:
      description: The resource type the document runs on; null when not set.
      returned: success
      type: str
      sample: /AWS::EC2::Instance
    requires:
      description: The documents this one requires.
      returned: when set
      type: list
      elements: dict
      sample: [{"name": "app-config-schema", "version": "1"}]
    created_date:
      description: When the latest version was created (ISO 8601; unknown in check mode).
      returned: success
      type: str
      sample: "2026-12-06T22:00:12.692000+00:00"
    tags:
      description: The tags, as a dict.
      returned: success
      type: dict
      sample: {"team": "platform"}
    permissions:
      description: The accounts the document is shared with, V(all) when it is public.
      returned: success
      type: list
      elements: str
      sample: ["111122223333"]
    content:
      description:
        - The content of the latest version; a mapping for JSON and YAML documents, the text of a change calendar.
      returned: when O(return_content=true)
      type: raw
      sample: {"schemaVersion": "2.2", "mainSteps": []}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _documents as dm
from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule

PENDING = ("Creating", "Updating")


class Current:
    """A document: its latest version's description, every version, its sharing, the latest content."""

    def __init__(self, description, versions, permissions, text, document_format, data=None):
        self.description = description
        self.versions = list(versions or [])
        self.permissions = permissions
        self.text = text
        self.document_format = document_format or description.get("DocumentFormat")
        if data is None and text is not None:
            data = dm.parse_stored(text, self.document_format)
        self.data = data

    @property
    def name(self):
        return self.description["Name"]

    @property
    def tags(self):
        return {tag["Key"]: tag["Value"] for tag in self.description.get("Tags") or []}

    @property
    def content(self):
        return dm.content_for_display(self.data, self.text, self.document_format)


def describe(client, name, timeout=None, version="$LATEST"):
    """The document as AWS holds it (None when it does not exist), once its latest version is processed."""
    description = dm.describe_document(client, name, version)
    if description is None:
        return None
    if timeout and description.get("Status") in PENDING:
        description = dm.wait_until_active(client, name, description["DocumentVersion"], timeout)
    versions = dm.list_document_versions(client, name) or []
    permissions = dm.describe_document_permission(client, name)
    stored = dm.get_document(client, name, description["DocumentVersion"]) or {}
    return Current(description, versions, permissions, stored.get("Content"), stored.get("DocumentFormat"))


def check_input(params):
    """Every check that needs no API call; returns (permissions, desired content)."""
    if params["src"] is not None:
        raise dm.DocumentValidationError(
            "src is read on the controller by the action plugin of fleetops.ssm.document; run the module as a task "
            "named fleetops.ssm.document, or pass the file's text as content."
        )
    if params["version"] is not None and params["state"] != "absent":
        raise dm.DocumentValidationError(
            "version selects the version to delete with state: absent. To choose the version that runs, use "
            "default_version."
        )
    permissions = dm.validate_options(params)
    content = None
    if params["content"] is not None and params["state"] == "present":
        content = dm.desired_content(params["content"], params["document_format"], params["document_type"])
    return permissions, content


def permission_changes(current, wanted, purge):
    if wanted is None:
        return [], []
    current = set(current or [])
    to_add = sorted(set(wanted) - current)
    to_remove = sorted(current - set(wanted)) if purge else []
    return to_add, to_remove


def resolve_default(wanted, versions, latest, name):
    """The version number default_version names (None for keep); an error when it names no version."""
    if wanted == dm.KEEP:
        return None
    if wanted == dm.LATEST:
        return latest
    number = dm.resolve_version(wanted, versions)
    if number is None:
        known = ", ".join(
            item["DocumentVersion"] + (f" ({item['VersionName']})" if item.get("VersionName") else "")
            for item in sorted(versions, key=lambda item: int(item["DocumentVersion"]))
        )
        raise dm.DocumentValidationError(
            f"default_version {wanted} is not a version of document {name}; its versions are {known or 'none yet'}."
        )
    return number


def ensure_created(client, params, content, permissions, check_mode):
    """Create the document; in check mode returns the predicted document (None otherwise)."""
    name = params["name"]
    if content is None:
        raise dm.DocumentValidationError(f"Document {name} does not exist: give content or src to create it.")
    version_name = params["version_name"]
    planned = [{"DocumentVersion": "1", "VersionName": version_name}]
    resolve_default(params["default_version"], planned, "1", name)
    requires = dm.requires_request(params["requires"])
    request = dm.create_request(name, content, params["document_type"], params["target_type"], version_name,
                                requires, params["tags"])
    if check_mode:
        predicted = dm.predict_description(None, name, content, params["document_type"], "1", params["target_type"],
                                           version_name, requires)
        predicted["Tags"] = request.get("Tags", [])
        return Current(predicted, planned, permissions or [], content.text, content.document_format, content.data)
    created = dm.create_document(client, request)
    dm.wait_until_active(client, name, created["DocumentVersion"], params["wait_timeout"])
    if permissions:
        dm.modify_document_permission(client, name, add=permissions)
    return None


def plan_update(current, params, content):
    """(content for a new version, or None when none is needed; warnings). Refuses what AWS cannot change."""
    name = current.name
    warnings = []
    if params["document_type"] and params["document_type"] != current.description.get("DocumentType"):
        raise dm.DocumentValidationError(
            f"Document {name} is a {current.description.get('DocumentType')} document; AWS cannot change the type "
            f"of a document. Delete it and create it again as {params['document_type']}, or use another name."
        )
    wanted_requires = dm.requires_request(params["requires"])
    if wanted_requires is not None and not dm.same_requires(wanted_requires, current.description.get("Requires")):
        raise dm.DocumentValidationError(
            f"Document {name} has other requirements (requires); AWS sets them only when a document is created. "
            "Delete the document and create it again to change them."
        )
    target_differs = bool(params["target_type"]) and params["target_type"] != current.description.get("TargetType")
    content_differs = content is not None and not content.same_as(current.data, current.text, current.document_format)
    if not content_differs and not target_differs:
        latest_name = current.description.get("VersionName")
        if params["version_name"] and params["version_name"] != latest_name:
            warnings.append(
                f"The content of document {name} is unchanged, so no version was created and version_name "
                f"{params['version_name']} was not used; the latest version ({current.description['DocumentVersion']}) "
                f"keeps its name ({latest_name or 'none'}): AWS names a version only when it creates it."
            )
        return None, warnings
    owner = dm.resolve_version(params["version_name"], current.versions) if params["version_name"] else None
    if owner is not None:
        raise dm.DocumentValidationError(
            f"version_name {params['version_name']} already names version {owner} of document {name}, and AWS keeps "
            "version names unique. Choose a new version name for the changed content, or leave version_name unset."
        )
    if not content_differs:  # a new target type for the same content
        content = dm.DesiredContent(current.data, current.text, current.document_format)
    return content, warnings


def ensure_updated(client, current, params, content, permissions, check_mode):
    """Returns (changed, the predicted document in check mode, warnings)."""
    name = current.name
    new_content, warnings = plan_update(current, params, content)
    versions = list(current.versions)
    latest = current.description.get("LatestVersion") or current.description["DocumentVersion"]
    new_version = None
    if new_content is not None:
        new_version = str(max(int(v) for v in dm.version_numbers(versions) + [latest]) + 1)
        versions.append({"DocumentVersion": new_version, "VersionName": params["version_name"]})
    default = resolve_default(params["default_version"], versions, new_version or latest, name)
    default_changes = default is not None and default != current.description.get("DefaultVersion")
    to_add, to_remove = permission_changes(current.permissions, permissions, params["purge_permissions"])
    tags_to_set, tags_to_remove = _tags.tag_changes(current.tags, params["tags"], params["purge_tags"])
    changed = bool(new_content is not None or default_changes or to_add or to_remove or tags_to_set or tags_to_remove)

    if new_content is not None and not check_mode:
        request = dm.update_request(name, new_content, params["target_type"], params["version_name"])
        new_version = dm.update_document(client, request)["DocumentVersion"]
        if params["default_version"] == dm.LATEST:
            default = new_version
            default_changes = default != current.description.get("DefaultVersion")
        dm.wait_until_active(client, name, new_version, params["wait_timeout"])
    if default_changes and not check_mode:
        dm.update_document_default_version(client, name, default)
    final_tags = _tags.apply_tag_changes(client, dm.RESOURCE_TYPE, name, current.tags, tags_to_set, tags_to_remove,
                                         check_mode)
    if (to_add or to_remove) and not check_mode:
        dm.modify_document_permission(client, name, add=to_add, remove=to_remove)
    if not check_mode:
        return changed, None, warnings

    predicted = current.description
    shown = current
    if new_content is not None:
        predicted = dm.predict_description(current.description, name, new_content, None, new_version,
                                           params["target_type"], params["version_name"])
        shown = new_content
    predicted = dict(predicted, DefaultVersion=default or current.description.get("DefaultVersion"))
    predicted["Tags"] = [{"Key": key, "Value": value} for key, value in final_tags.items()]
    sharing = sorted((set(current.permissions or []) | set(to_add)) - set(to_remove))
    return changed, Current(predicted, versions, sharing, shown.text, shown.document_format, shown.data), warnings


def refuse_shared(current, what):
    if current.permissions:
        shared = "publicly" if dm.PUBLIC in current.permissions else "with " + ", ".join(current.permissions)
        raise dm.DocumentValidationError(
            f"Document {current.name} is shared {shared}, and AWS does not delete a shared document. Unshare it first "
            f"(permissions: [] with state: present), then {what}."
        )


def ensure_absent(client, current, version, check_mode):
    """Returns (changed, the version number deleted, or None when the whole document was)."""
    if current is None:
        return False, None
    if version is None:
        refuse_shared(current, "delete it")
        if not check_mode:
            dm.delete_document(client, current.name)
        return True, None
    number = dm.resolve_version(version, current.versions)
    if number is None:
        return False, None
    refuse_shared(current, f"delete version {number}")
    if number == current.description.get("DefaultVersion"):
        raise dm.DocumentValidationError(
            f"Version {number} is the default version of document {current.name}, and AWS does not delete the default "
            "version. Make another version the default first (default_version with state: present), or delete the "
            "whole document (state: absent without version)."
        )
    if not check_mode:
        dm.delete_document(client, current.name, number)
    return True, number


def apply(client, current, params, content, permissions, check_mode):
    """Returns (changed, warnings, the document after the task or None)."""
    name, timeout = params["name"], params["wait_timeout"]
    if params["state"] == "absent":
        changed, number = ensure_absent(client, current, params["version"], check_mode)
        if not changed:
            return False, [], current
        if number is None:
            return True, [], None
        if not check_mode:
            return True, [], describe(client, name, timeout)
        remaining = [item for item in current.versions if item["DocumentVersion"] != number]
        latest = dm.version_numbers(remaining)[-1]
        final = describe(client, name, version=latest)
        final.description = dict(final.description, LatestVersion=latest)
        final.versions = remaining
        return True, [], final
    kind = params["document_type"] or (current.description.get("DocumentType") if current else dm.DEFAULT_TYPE)
    if content is not None:
        dm.validate_content(content, kind)
    warnings = []
    if current is None:
        predicted = ensure_created(client, params, content, permissions, check_mode)
        changed = True
    else:
        changed, predicted, warnings = ensure_updated(client, current, params, content, permissions, check_mode)
    if check_mode:
        return changed, warnings, predicted or current
    final = describe(client, name, timeout) if changed else current
    if final is not None and final.description.get("Status") == "Failed":
        raise dm.DocumentFailedError(
            f"Document {name} version {final.description['DocumentVersion']} failed: "
            f"{final.description.get('StatusInformation') or 'AWS gave no reason'}"
        )
    return changed, warnings, final


def result(final, return_content):
    if final is None:
        return {}
    return dm.document_to_ansible(final.description, final.versions, final.permissions, final.content, return_content)


def diff_text(state):
    if state is None:
        return ""
    return dm.document_for_diff(state.description, state.permissions, state.content, state.tags)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        content=dict(type="raw"),
        src=dict(type="path"),
        document_format=dict(type="str", choices=list(dm.DOCUMENT_FORMATS)),
        document_type=dict(type="str", choices=list(dm.DOCUMENT_TYPES)),
        target_type=dict(type="str"),
        version_name=dict(type="str"),
        requires=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            version=dict(type="str"),
            require_type=dict(type="str"),
            version_name=dict(type="str"),
        )),
        default_version=dict(type="str", default=dm.LATEST),
        permissions=dict(type="list", elements="str"),
        purge_permissions=dict(type="bool", default=True),
        version=dict(type="str"),
        return_content=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True,
                               mutually_exclusive=[("content", "src")])
    dm.check_yaml(module)
    params = module.params
    changed, warnings, current, final = False, [], None, None
    try:
        permissions, content = check_input(params)
        client = module.client("ssm")
        current = describe(client, params["name"], params["wait_timeout"])
        changed, warnings, final = apply(client, current, params, content, permissions, module.check_mode)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    for warning in warnings:
        module.warn(warning)
    diff = dict(before=diff_text(current), after=diff_text(final))
    module.exit_json(changed=changed, document=result(final, params["return_content"]), diff=diff)


if __name__ == "__main__":
    main()
