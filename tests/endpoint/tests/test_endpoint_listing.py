"""GetParametersByPath and DescribeParameters: paths, filters, page sizes, tokens."""

import pytest
from botocore.exceptions import ClientError


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture
def raw_ssm(aws_client):
    return aws_client("ssm", parameter_validation=False)


@pytest.fixture
def tree(ssm_client):
    names = ["/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d", "/apple/x", "/other/y", "top"]
    for name in names:
        ssm_client.put_parameter(Name=name, Value=name, Type="String")
    ssm_client.put_parameter(Name="/app/secret", Value="s", Type="SecureString")
    return names


def test_by_path_one_level_and_recursive(ssm_client, tree):
    one = ssm_client.get_parameters_by_path(Path="/app")["Parameters"]
    assert [p["Name"] for p in one] == ["/app/a", "/app/b", "/app/secret"]
    trailing = ssm_client.get_parameters_by_path(Path="/app/")["Parameters"]
    assert [p["Name"] for p in trailing] == ["/app/a", "/app/b", "/app/secret"]
    deep = ssm_client.get_parameters_by_path(Path="/app", Recursive=True)["Parameters"]
    assert [p["Name"] for p in deep] == ["/app/a", "/app/b", "/app/secret", "/app/sub/c", "/app/sub/deep/d"]
    root = ssm_client.get_parameters_by_path(Path="/")["Parameters"]
    assert [p["Name"] for p in root] == ["top"]
    assert ssm_client.get_parameters_by_path(Path="/nothing/here")["Parameters"] == []
    keys = set(one[0])
    assert keys == {"Name", "Type", "Value", "Version", "LastModifiedDate", "ARN", "DataType"}


def test_by_path_pagination_25_params(ssm_client):
    for i in range(25):
        ssm_client.put_parameter(Name=f"/page/p{i:02d}", Value=str(i), Type="String")
    pages, token, names = [], None, []
    while True:
        kwargs = {"Path": "/page"}
        if token:
            kwargs["NextToken"] = token
        result = ssm_client.get_parameters_by_path(**kwargs)
        pages.append(len(result["Parameters"]))
        names += [p["Name"] for p in result["Parameters"]]
        token = result.get("NextToken")
        if not token:
            break
    assert pages == [10, 10, 5]
    assert names == [f"/page/p{i:02d}" for i in range(25)]
    paginated = ssm_client.get_paginator("get_parameters_by_path").paginate(
        Path="/page", PaginationConfig={"PageSize": 7}
    )
    assert [len(page["Parameters"]) for page in paginated] == [7, 7, 7, 4]


def test_by_path_max_results_limits(raw_ssm):
    raw_ssm.put_parameter(Name="/lim/a", Value="x", Type="String")
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.get_parameters_by_path(Path="/lim", MaxResults=11)
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10" in message
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.get_parameters_by_path(Path="/lim", MaxResults=0)
    assert "greater than or equal to 1" in error(excinfo)[1]


def test_by_path_invalid_token(ssm_client, tree):
    with pytest.raises(ssm_client.exceptions.InvalidNextToken):
        ssm_client.get_parameters_by_path(Path="/app", NextToken="bogus")
    first = ssm_client.get_parameters_by_path(Path="/app", Recursive=True, MaxResults=2)
    with pytest.raises(ssm_client.exceptions.InvalidNextToken):  # token of another query
        ssm_client.get_parameters_by_path(Path="/other", NextToken=first["NextToken"])


def test_by_path_invalid_path(raw_ssm):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.get_parameters_by_path(Path="no-slash")
    code, message = error(excinfo)
    assert code == "ValidationException" and "must begin with a forward slash" in message


def test_by_path_filters(ssm_client, aws_client, tree):
    result = ssm_client.get_parameters_by_path(
        Path="/app", ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}]
    )
    assert [p["Name"] for p in result["Parameters"]] == ["/app/secret"]
    result = ssm_client.get_parameters_by_path(
        Path="/app", Recursive=True, ParameterFilters=[{"Key": "Type", "Option": "BeginsWith", "Values": ["Str"]}]
    )
    assert "/app/secret" not in [p["Name"] for p in result["Parameters"]]
    for key in ("Name", "Path", "Tier", "tag:x"):
        with pytest.raises(ssm_client.exceptions.InvalidFilterKey):
            ssm_client.get_parameters_by_path(Path="/app", ParameterFilters=[{"Key": key, "Values": ["x"]}])
    with pytest.raises(ssm_client.exceptions.InvalidFilterOption):
        ssm_client.get_parameters_by_path(
            Path="/app", ParameterFilters=[{"Key": "Label", "Option": "BeginsWith", "Values": ["x"]}]
        )


def test_by_path_label_filter_returns_labelled_version(ssm_client):
    ssm_client.put_parameter(Name="/lbl/a", Value="v1", Type="String")
    ssm_client.put_parameter(Name="/lbl/a", Value="v2", Overwrite=True)
    ssm_client.put_parameter(Name="/lbl/b", Value="b1", Type="String")
    ssm_client.label_parameter_version(Name="/lbl/a", ParameterVersion=1, Labels=["stable"])
    result = ssm_client.get_parameters_by_path(Path="/lbl", ParameterFilters=[{"Key": "Label", "Values": ["stable"]}])
    assert [(p["Name"], p["Value"], p["Version"]) for p in result["Parameters"]] == [("/lbl/a", "v1", 1)]


def test_describe_defaults_and_pagination(ssm_client):
    for i in range(23):
        ssm_client.put_parameter(Name=f"/desc/p{i:02d}", Value="x", Type="String")
    first = ssm_client.describe_parameters()
    assert len(first["Parameters"]) == 10 and "NextToken" in first
    pages = list(ssm_client.get_paginator("describe_parameters").paginate(PaginationConfig={"PageSize": 50}))
    assert [len(p["Parameters"]) for p in pages] == [23]
    meta = first["Parameters"][0]
    assert set(meta) == {"Name", "ARN", "Type", "LastModifiedDate", "LastModifiedUser", "Version", "Tier",
                         "Policies", "DataType"}


def test_describe_max_results_limit(raw_ssm):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.describe_parameters(MaxResults=51)
    assert "less than or equal to 50" in error(excinfo)[1]


def test_describe_filters(ssm_client, tree):
    ssm_client.put_parameter(Name="/tagged/one", Value="1", Type="String",
                             Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "ops"}])
    ssm_client.put_parameter(Name="/tagged/two", Value="2", Type="StringList", Tier="Advanced",
                             Tags=[{"Key": "env", "Value": "dev"}])

    def names(*filters):
        return [p["Name"] for p in ssm_client.describe_parameters(ParameterFilters=list(filters))["Parameters"]]

    assert names({"Key": "Path", "Values": ["/app"]}) == ["/app/a", "/app/b", "/app/secret"]
    assert names({"Key": "Path", "Option": "Recursive", "Values": ["/app"]}) == [
        "/app/a", "/app/b", "/app/secret", "/app/sub/c", "/app/sub/deep/d"]
    assert names({"Key": "Name", "Values": ["/app/a"]}) == ["/app/a"]
    assert names({"Key": "Name", "Option": "BeginsWith", "Values": ["/app"]}) == [
        "/app/a", "/app/b", "/app/secret", "/app/sub/c", "/app/sub/deep/d", "/apple/x"]
    assert names({"Key": "Name", "Option": "Contains", "Values": ["sub"]}) == ["/app/sub/c", "/app/sub/deep/d"]
    assert names({"Key": "Type", "Values": ["SecureString", "StringList"]}) == ["/app/secret", "/tagged/two"]
    assert names({"Key": "Tier", "Values": ["Advanced"]}) == ["/tagged/two"]
    assert names({"Key": "DataType", "Values": ["text"]})[:2] == ["/app/a", "/app/b"]
    assert names({"Key": "tag:env", "Values": ["prod"]}) == ["/tagged/one"]
    assert names({"Key": "tag:env"}) == ["/tagged/one", "/tagged/two"]
    assert names({"Key": "tag:env", "Option": "BeginsWith", "Values": ["d"]}) == ["/tagged/two"]
    assert names({"Key": "tag:team", "Values": ["ops"]}, {"Key": "Path", "Values": ["/tagged"]}) == ["/tagged/one"]
    legacy = ssm_client.describe_parameters(Filters=[{"Key": "Name", "Values": ["/tagged"]}])["Parameters"]
    assert [p["Name"] for p in legacy] == ["/tagged/one", "/tagged/two"]


@pytest.mark.parametrize(
    "filters,code",
    [
        ([{"Key": "Label", "Values": ["x"]}], "InvalidFilterKey"),
        ([{"Key": "Name", "Values": ["a"]}, {"Key": "Name", "Values": ["b"]}], "InvalidFilterKey"),
        ([{"Key": "Name", "Option": "Regex", "Values": ["a"]}], "InvalidFilterOption"),
        ([{"Key": "Type", "Option": "Contains", "Values": ["String"]}], "InvalidFilterOption"),
        ([{"Key": "Path", "Option": "Equals", "Values": ["/a"]}], "InvalidFilterOption"),
        ([{"Key": "Name"}], "InvalidFilterValue"),
        ([{"Key": "Path", "Values": ["/aws/service"]}], "ValidationException"),
        ([{"Key": "Path", "Values": ["relative"]}], "ValidationException"),
        ([{"Key": "Color", "Values": ["red"]}], "ValidationException"),
    ],
)
def test_describe_filter_errors(raw_ssm, filters, code):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.describe_parameters(ParameterFilters=filters)
    assert error(excinfo)[0] == code


def test_describe_legacy_and_new_filters_together(ssm_client):
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_parameters(
            Filters=[{"Key": "Name", "Values": ["a"]}], ParameterFilters=[{"Key": "Name", "Values": ["a"]}]
        )
    assert error(excinfo) == ("ValidationException", "You can use either Filters or ParameterFilters in a single request.")


def test_describe_invalid_token(ssm_client):
    with pytest.raises(ssm_client.exceptions.InvalidNextToken):
        ssm_client.describe_parameters(NextToken="nope")


def test_history_pagination_and_limits(ssm_client, raw_ssm):
    for i in range(7):
        ssm_client.put_parameter(Name="/hist/p", Value=str(i), Type="String", Overwrite=True)
    pages = list(ssm_client.get_paginator("get_parameter_history").paginate(
        Name="/hist/p", PaginationConfig={"PageSize": 3}))
    assert [len(p["Parameters"]) for p in pages] == [3, 3, 1]
    assert [h["Value"] for p in pages for h in p["Parameters"]] == [str(i) for i in range(7)]
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.get_parameter_history(Name="/hist/p", MaxResults=51)
    assert "less than or equal to 50" in error(excinfo)[1]
