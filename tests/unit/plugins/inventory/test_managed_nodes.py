# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleError
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar
from ansible.utils.unsafe_proxy import AnsibleUnsafe

from ansible_collections.fleetops.ssm.plugins.plugin_utils._inventory_unsafe import make_unsafe

WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
DANGER = "{{ lookup('pipe', 'id') }}"


def info(instance_id, **extra):
    hybrid = instance_id.startswith("mi-")
    result = {"InstanceId": instance_id, "PingStatus": "Online", "LastPingDateTime": WHEN, "AgentVersion": "3.3.0.0",
              "IsLatestVersion": True, "PlatformType": "Linux", "PlatformName": "Debian GNU/Linux",
              "PlatformVersion": "12", "ResourceType": "ManagedInstance" if hybrid else "EC2Instance",
              "ComputerName": f"host-{instance_id[-2:]}", "IPAddress": "192.0.2.1", "SourceId": instance_id,
              "SourceType": "AWS::SSM::ManagedInstance" if hybrid else "AWS::EC2::Instance"}
    result.update(extra)
    return result


NODES = {
    "us-east-1": [info("mi-00000000000000001"), info("mi-00000000000000002", PlatformType="Windows"),
                  info("i-00000000000000003")],
    "eu-west-1": [info("mi-00000000000000004")],
}
TAGS = {
    "mi-00000000000000001": {"Name": "web-1", "Patch Group": "web-prod", "Danger": DANGER},
    "mi-00000000000000002": {"Name": "win-1", "PatchGroup": "win"},
    "i-00000000000000003": {"Name": "db-1"},
}


class FakeAWS:
    """Clients per service and region answering from NODES and TAGS; counts the calls."""

    def __init__(self):
        self.calls = []

    def client(self, service, region=None, **kwargs):
        fake = MagicMock()
        if service == "ssm":
            def describe(**kw):
                self.calls.append(("DescribeInstanceInformation", region, kw))
                return {"InstanceInformationList": list(NODES.get(region, []))}
            fake.describe_instance_information.side_effect = describe
        elif service == "sts":
            def identity():
                self.calls.append(("GetCallerIdentity", region, {}))
                return {"Account": "123456789012"}
            fake.get_caller_identity.side_effect = identity
        elif service == "resourcegroupstaggingapi":
            def resources(ResourceARNList):
                self.calls.append(("GetResources", region, ResourceARNList))
                return {"ResourceTagMappingList": [
                    {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in TAGS[arn.rsplit("/", 1)[1]].items()]}
                    for arn in ResourceARNList if arn.rsplit("/", 1)[1] in TAGS]}
            fake.get_resources.side_effect = resources
        return fake


@pytest.fixture
def aws(monkeypatch):
    fake = FakeAWS()
    plugin_class = type(inventory_loader.get("fleetops.ssm.managed_nodes"))
    monkeypatch.setattr(plugin_class, "client", lambda self, service, **kw: fake.client(service, **kw))
    return fake


@pytest.fixture
def parse(tmp_path):
    def run(config, cache=True):
        path = tmp_path / "test.ssm.yml"
        path.write_text(config)
        plugin = inventory_loader.get("fleetops.ssm.managed_nodes")
        inventory = InventoryData()
        loader = DataLoader()
        plugin.templar = Templar(loader=loader)
        assert plugin.verify_file(str(path))
        plugin.parse(inventory, loader, str(path), cache=cache)
        if getattr(plugin, "_cache", None) is not None:
            plugin.update_cache_if_changed()  # as InventoryManager does after parse
        return inventory
    return run


BASE = "plugin: fleetops.ssm.managed_nodes\naccess_key: x\nsecret_key: y\nregions: [us-east-1]\n"


def test_verify_file_suffixes(tmp_path):
    plugin = inventory_loader.get("fleetops.ssm.managed_nodes")
    for name, ok in (("a.ssm.yml", True), ("a.ssm.yaml", True), ("a.aws_ec2.yml", False), ("a.yml", False)):
        (tmp_path / name).write_text(BASE)
        assert plugin.verify_file(str(tmp_path / name)) is ok


def test_hosts_hostvars_and_groups(aws, parse):
    inventory = parse(BASE)
    assert sorted(inventory.hosts) == ["i-00000000000000003", "mi-00000000000000001", "mi-00000000000000002"]
    web = inventory.get_host("mi-00000000000000001").vars
    assert web["instance_id"] == "mi-00000000000000001" and web["ping_status"] == "Online"
    assert web["ip_address"] == "192.0.2.1" and web["last_ping_date_time"] == "2026-01-02T03:04:05+00:00"
    assert web["tags"]["Name"] == "web-1" and web["region"] == "us-east-1"
    assert web["ansible_connection"] == "fleetops.ssm.session"
    assert web["ansible_host"] == "mi-00000000000000001" and web["ansible_fleetops_ssm_region"] == "us-east-1"
    groups = inventory.groups
    assert sorted(h.name for h in groups["platform_linux"].hosts) == ["i-00000000000000003", "mi-00000000000000001"]
    assert [h.name for h in groups["platform_windows"].hosts] == ["mi-00000000000000002"]
    assert [h.name for h in groups["resource_ec2_instance"].hosts] == ["i-00000000000000003"]
    assert len(groups["ping_online"].hosts) == 3
    assert [h.name for h in groups["patch_group_web_prod"].hosts] == ["mi-00000000000000001"]
    assert [h.name for h in groups["patch_group_win"].hosts] == ["mi-00000000000000002"]
    names = [call[0] for call in aws.calls]
    assert names.count("DescribeInstanceInformation") == 1 and names.count("GetResources") == 1
    assert names.count("GetCallerIdentity") == 1
    assert aws.calls[0][2]["Filters"] == [{"Key": "PingStatus", "Values": ["Online"]}]


def never_templated(value):
    """Templating the value gives it back as it is: the lookup in it does not run."""
    templar = Templar(loader=DataLoader(), variables={"value": value})
    return templar.template(value) == DANGER


def test_template_in_a_tag_is_never_evaluated(aws, parse, monkeypatch):
    ran = []
    monkeypatch.setattr("subprocess.Popen", lambda *a, **kw: ran.append(a))
    inventory = parse(BASE)
    danger = inventory.get_host("mi-00000000000000001").vars["tags"]["Danger"]
    assert danger == DANGER
    assert never_templated(danger)
    assert ran == []


def test_make_unsafe():
    result = make_unsafe({"a": "plain", "b": [DANGER], "c": 1, "d": {"e": DANGER}, "f": (DANGER,)})
    assert result["a"] == "plain" and result["c"] == 1
    assert never_templated(result["b"][0]) and never_templated(result["d"]["e"]) and never_templated(result["f"][0])
    if hasattr(AnsibleUnsafe, "__mro__") and isinstance(make_unsafe(DANGER), AnsibleUnsafe):  # before 2.19
        assert not isinstance(result["a"], AnsibleUnsafe)


def test_constructed_and_two_regions(aws, parse):
    config = BASE.replace("regions: [us-east-1]", "regions: [us-east-1, eu-west-1]") + (
        "hostnames: ['tag:Name', instance_id]\n"
        "keyed_groups: [{key: platform_type, prefix: os}]\n"
        "groups: {webs: \"tags.Name is defined and tags.Name.startswith('web')\"}\n"
        "compose: {ansible_host: computer_name}\n")
    inventory = parse(config)
    assert sorted(inventory.hosts) == ["db-1", "mi-00000000000000004", "web-1", "win-1"]
    assert inventory.get_host("mi-00000000000000004").vars["region"] == "eu-west-1"
    assert inventory.get_host("web-1").vars["ansible_host"] == "host-01"
    assert [h.name for h in inventory.groups["webs"].hosts] == ["web-1"]
    assert "os_Windows" in inventory.groups


def test_hostname_template(aws, parse):
    inventory = parse(BASE + "hostnames: ['{{ computer_name | upper }}']\n")
    assert "HOST-01" in inventory.hosts


@pytest.mark.parametrize("extra, text", [
    ("hostnames: [dns_name]\n", "hostnames: the entry 'dns_name' matches nothing"),
    ("hostnames: ['tag:Owner']\n", "hostnames: no entry names the node"),
    ("filters: {PingState: Online}\n", "filters: unknown filter key 'PingState'"),
])
def test_errors_name_the_option(aws, parse, extra, text):
    with pytest.raises(AnsibleParserError, match=text):
        parse(BASE + extra)


def test_unknown_region(aws, parse):
    with pytest.raises(AnsibleParserError, match="regions: unknown region"):
        parse(BASE.replace("us-east-1", "us-nowhere-9"))
    assert aws.calls == []


def test_api_error(aws, parse, monkeypatch):
    import botocore.exceptions

    def denied(self, service, **kw):
        fake = MagicMock()
        fake.describe_instance_information.side_effect = botocore.exceptions.ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeInstanceInformation")
        return fake

    monkeypatch.setattr(type(inventory_loader.get("fleetops.ssm.managed_nodes")), "client", denied)
    with pytest.raises(AnsibleError, match="ssm:DescribeInstanceInformation"):
        parse(BASE)


def test_cache_hit_makes_no_call(aws, parse, tmp_path):
    config = BASE + f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {tmp_path}/cache\n"
    first = parse(config)
    calls = len(aws.calls)
    assert calls == 3
    second = parse(config)
    assert len(aws.calls) == calls
    assert sorted(second.hosts) == sorted(first.hosts)
    assert second.get_host("mi-00000000000000001").vars["tags"]["Danger"] == DANGER
    parse(config, cache=False)  # --flush-cache
    assert len(aws.calls) == 2 * calls


def test_connection_defaults_and_endpoint(aws, parse):
    web = parse(BASE + "endpoint_url: http://127.0.0.1:4566\n").get_host("mi-00000000000000001").vars
    assert web["ansible_fleetops_ssm_endpoint_url"] == "http://127.0.0.1:4566"
    assert web["ansible_connection"] == "fleetops.ssm.session" and web["ansible_host"] == "mi-00000000000000001"
    bare = parse(BASE + "use_connection_defaults: false\n").get_host("mi-00000000000000001").vars
    assert not {"ansible_connection", "ansible_host", "ansible_fleetops_ssm_region"} & set(bare)
    assert bare["instance_id"] == "mi-00000000000000001" and "inventory_file" in bare  # add_host's own stay


def test_a_host_named_twice_ends_with_the_last_node(aws, parse):
    # Both Linux nodes are named "Linux": as with one set_variable per variable, the later node's
    # values replace the earlier one's, dicts (tags) included, and the host is in both nodes' groups.
    inventory = parse(BASE + "hostnames: ['{{ platform_type }}']\n")
    assert sorted(inventory.hosts) == ["Linux", "Windows"]
    linux = inventory.get_host("Linux").vars
    assert linux["instance_id"] == "i-00000000000000003" and linux["tags"] == {"Name": "db-1"}
    assert [h.name for h in inventory.groups["resource_ec2_instance"].hosts] == ["Linux"]
    assert [h.name for h in inventory.groups["resource_managed_instance"].hosts] == ["Linux", "Windows"]


def test_other_sources_vars_are_kept(aws, parse, tmp_path):
    # A host another source defined first keeps its own variables; ours are added.
    path = tmp_path / "test.ssm.yml"
    path.write_text(BASE)
    inventory = InventoryData()
    inventory.add_host("mi-00000000000000001")
    inventory.set_variable("mi-00000000000000001", "owner", "team-a")
    inventory.set_variable("mi-00000000000000001", "region", "replaced")
    plugin = inventory_loader.get("fleetops.ssm.managed_nodes")
    plugin.templar = Templar(loader=DataLoader())
    plugin.parse(inventory, DataLoader(), str(path), cache=False)
    web = inventory.get_host("mi-00000000000000001").vars
    assert web["owner"] == "team-a" and web["region"] == "us-east-1" and web["tags"]["Name"] == "web-1"


def test_through_the_inventory_manager(aws, tmp_path, monkeypatch):
    """As ansible-playbook loads it (behind ansible-core's own InventoryData wrapper, where it has one):
    the same hosts, variables and groups, and API strings are still never templated."""
    from ansible import constants
    from ansible.inventory.manager import InventoryManager

    ran = []
    monkeypatch.setattr("subprocess.Popen", lambda *a, **kw: ran.append(a))
    monkeypatch.setattr(constants, "INVENTORY_ENABLED", ["fleetops.ssm.managed_nodes"])
    path = tmp_path / "test.ssm.yml"
    path.write_text(BASE + "keyed_groups: [{key: tags.Name, prefix: name}]\ncompose: {rack: \"'r-' ~ computer_name\"}\n")
    manager = InventoryManager(loader=DataLoader(), sources=[str(path)])
    assert sorted(host.name for host in manager.get_hosts()) == [
        "i-00000000000000003", "mi-00000000000000001", "mi-00000000000000002"]
    web = manager.get_host("mi-00000000000000001").vars
    assert web["tags"]["Danger"] == DANGER and never_templated(web["tags"]["Danger"])
    assert web["rack"] == "r-host-01" and web["ansible_fleetops_ssm_region"] == "us-east-1"
    assert [h.name for h in manager.groups["name_web_1"].hosts] == ["mi-00000000000000001"]
    assert [h.name for h in manager.groups["patch_group_web_prod"].hosts] == ["mi-00000000000000001"]
    try:
        from ansible._internal._datatag._tags import TrustedAsTemplate
    except ImportError:  # before 2.19: unsafe marking is what protects the value (test_make_unsafe)
        TrustedAsTemplate = None
    if TrustedAsTemplate is not None:
        assert not TrustedAsTemplate.is_tagged_on(web["tags"]["Danger"])
    assert ran == []
