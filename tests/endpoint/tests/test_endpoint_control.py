"""The control API: fault injection, call counting, reset, simulated access denial."""

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def control(endpoint, method, path, body=None):
    return endpoint.control(method, path, body)


def raw_control(endpoint, method, path, body=b""):
    request = urllib.request.Request(endpoint.url + path, data=body or None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ---------------------------------------------------------------- faults


def test_throttle_then_success(clean_endpoint, aws_client):
    no_retry = aws_client("ssm", retries=0)
    control(clean_endpoint, "POST", "/faults", {"operation": "PutParameter", "kind": "throttle", "count": 2})
    for attempt in range(2):
        with pytest.raises(ClientError) as excinfo:
            no_retry.put_parameter(Name="/f/p", Value="x", Type="String")
        assert error(excinfo) == ("ThrottlingException", "Rate exceeded")
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, attempt
    assert no_retry.put_parameter(Name="/f/p", Value="x", Type="String")["Version"] == 1
    assert control(clean_endpoint, "GET", "/calls")["ssm:PutParameter"] == 3
    assert control(clean_endpoint, "GET", "/faults") == {"faults": []}


def test_throttling_is_retried_by_botocore(clean_endpoint, aws_client):
    retrying = aws_client("ssm", retries=4)
    control(clean_endpoint, "POST", "/faults", {"operation": "GetParameter", "kind": "throttle", "count": 2})
    retrying.put_parameter(Name="/f/r", Value="x", Type="String")
    response = retrying.get_parameter(Name="/f/r")
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert control(clean_endpoint, "GET", "/calls")["ssm:GetParameter"] == 3


def test_throttle_is_recognised_as_throttling():
    from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

    checker = ThrottledRetryableChecker()
    parsed = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    assert checker.is_retryable(RetryContext(attempt_number=1, parsed_response=parsed))


@pytest.mark.parametrize("status,code", [(500, "InternalServerError"), (503, "ServiceUnavailableException")])
def test_server_errors(clean_endpoint, aws_client, status, code):
    no_retry = aws_client("ssm", retries=0)
    control(clean_endpoint, "POST", "/faults", {"operation": "DescribeParameters", "kind": "error5xx", "status": status})
    with pytest.raises(ClientError) as excinfo:
        no_retry.describe_parameters()
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error(excinfo)[0] == code
    assert no_retry.describe_parameters()["Parameters"] == []


def test_latency(clean_endpoint, ssm_client):
    control(clean_endpoint, "POST", "/faults", {"operation": "DescribeParameters", "kind": "latency", "latency_ms": 400})
    started = time.monotonic()
    ssm_client.describe_parameters()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    ssm_client.describe_parameters()
    assert time.monotonic() - started < 0.4


def test_wildcard_operation_and_other_services(clean_endpoint, aws_client):
    ssm = aws_client("ssm", retries=0)
    kms = aws_client("kms", retries=0)
    control(clean_endpoint, "POST", "/faults", {"operation": "*", "kind": "throttle", "count": 2})
    with pytest.raises(ClientError):
        ssm.describe_parameters()
    with pytest.raises(ClientError):
        ssm.list_documents()
    ssm.describe_parameters()
    kms.list_keys()  # the ssm fault does not touch kms
    control(clean_endpoint, "POST", "/faults", {"service": "kms", "operation": "ListKeys", "kind": "throttle"})
    with pytest.raises(ClientError) as excinfo:
        kms.list_keys()
    assert error(excinfo)[0] == "ThrottlingException"


def test_query_protocol_throttle(clean_endpoint, aws_client):
    sts = aws_client("sts", retries=0)
    control(clean_endpoint, "POST", "/faults", {"service": "sts", "operation": "GetCallerIdentity", "kind": "throttle"})
    with pytest.raises(ClientError) as excinfo:
        sts.get_caller_identity()
    assert error(excinfo)[0] == "Throttling"
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_fault_listing_and_clearing(clean_endpoint):
    control(clean_endpoint, "POST", "/faults", {"operation": "PutParameter", "kind": "throttle", "count": 3})
    control(clean_endpoint, "POST", "/faults", {"operation": "GetParameter", "kind": "latency", "latency_ms": 5})
    pending = control(clean_endpoint, "GET", "/faults")["faults"]
    assert [(f["operation"], f["kind"], f["count"]) for f in pending] == [
        ("PutParameter", "throttle", 3), ("GetParameter", "latency", 1)]
    control(clean_endpoint, "DELETE", "/faults")
    assert control(clean_endpoint, "GET", "/faults") == {"faults": []}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "throttle"},
        {"operation": "PutParameter", "kind": "explode"},
        {"operation": "PutParameter", "kind": "throttle", "count": 0},
        {"operation": "PutParameter", "kind": "latency"},
        {"operation": "PutParameter", "kind": "error5xx", "status": 404},
    ],
)
def test_bad_fault_requests(clean_endpoint, body):
    status, payload = raw_control(clean_endpoint, "POST", "/_fleetops/faults", json.dumps(body).encode())
    assert status == 400 and "error" in payload


def test_unknown_control_path(clean_endpoint):
    assert raw_control(clean_endpoint, "GET", "/_fleetops/nope")[0] == 404


# ---------------------------------------------------------------- calls


def test_call_counts_across_services(clean_endpoint, aws_client):
    aws_client("ssm").describe_parameters()
    aws_client("kms").list_keys()
    aws_client("sts").get_caller_identity()
    aws_client("iam").list_users()
    aws_client("ec2").describe_regions()
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="fleetops-calls")
    s3.put_object(Bucket="fleetops-calls", Key="k", Body=b"data")
    s3.get_object(Bucket="fleetops-calls", Key="k")["Body"].read()
    control(clean_endpoint, "GET", "/faults")  # control calls are not counted
    assert control(clean_endpoint, "GET", "/calls") == {
        "ec2:DescribeRegions": 1,
        "iam:ListUsers": 1,
        "kms:ListKeys": 1,
        "s3:GET": 1,
        "s3:PUT": 2,
        "ssm:DescribeParameters": 1,
        "sts:GetCallerIdentity": 1,
    }
    control(clean_endpoint, "DELETE", "/calls")
    assert control(clean_endpoint, "GET", "/calls") == {}


# ---------------------------------------------------------------- reset


def test_reset_restores_fresh_state(clean_endpoint, aws_client):
    ssm = aws_client("ssm")
    kms = aws_client("kms")
    ssm.put_parameter(Name="/r/p", Value="x", Type="SecureString")
    kms.create_key(Description="to be forgotten")
    control(clean_endpoint, "POST", "/faults", {"operation": "GetParameter", "kind": "throttle"})
    control(clean_endpoint, "POST", "/deny", {"action": "ssm:DeleteParameter"})
    control(clean_endpoint, "POST", "/reset")
    assert control(clean_endpoint, "GET", "/faults") == {"faults": []}
    assert control(clean_endpoint, "GET", "/deny") == {"rules": []}
    assert control(clean_endpoint, "GET", "/calls") == {}
    assert ssm.describe_parameters()["Parameters"] == []
    assert kms.list_keys()["Keys"] == []
    names = [d["Name"] for d in ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Amazon"]}])["DocumentIdentifiers"]]
    assert "AWS-RunShellScript" in names
    ssm.put_parameter(Name="/r/p", Value="y", Type="SecureString")
    assert ssm.get_parameter(Name="/r/p", WithDecryption=True)["Parameter"]["Value"] == "y"


# ---------------------------------------------------------------- deny


def test_deny_put_parameter_by_prefix(clean_endpoint, ssm_client):
    control(clean_endpoint, "POST", "/deny", {"action": "ssm:PutParameter", "resource_prefix": "/denied/"})
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/denied/x", Value="v", Type="String")
    assert error(excinfo) == (
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/test is not authorized to perform: ssm:PutParameter on resource: "
        "arn:aws:ssm:us-east-1:123456789012:parameter/denied/x because no identity-based policy allows the "
        "ssm:PutParameter action",
    )
    ssm_client.put_parameter(Name="/allowed/x", Value="v", Type="String")
    assert control(clean_endpoint, "GET", "/deny")["rules"][0]["action"] == "ssm:PutParameter"
    control(clean_endpoint, "DELETE", "/deny")
    ssm_client.put_parameter(Name="/denied/x", Value="v", Type="String")


def test_deny_reads_with_wildcards(clean_endpoint, ssm_client):
    ssm_client.put_parameter(Name="/secret/a", Value="v", Type="String")
    ssm_client.put_parameter(Name="/open/a", Value="v", Type="String")
    control(clean_endpoint, "POST", "/deny", {"action": "ssm:GetParameter*", "resource_prefix": "/secret/"})
    with pytest.raises(ClientError) as excinfo:
        ssm_client.get_parameter(Name="/secret/a")
    assert "ssm:GetParameter on resource" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        ssm_client.get_parameters(Names=["/open/a", "/secret/a"])
    assert "ssm:GetParameters on resource: arn:aws:ssm:us-east-1:123456789012:parameter/secret/a" in error(excinfo)[1]
    # As in AWS, GetParametersByPath is authorized against the path, not the parameters it returns.
    assert [p["Name"] for p in ssm_client.get_parameters_by_path(Path="/secret")["Parameters"]] == ["/secret/a"]
    control(clean_endpoint, "POST", "/deny", {"action": "ssm:GetParametersByPath", "resource_prefix": "/secret"})
    with pytest.raises(ClientError):
        ssm_client.get_parameters_by_path(Path="/secret")
    assert ssm_client.get_parameter(Name="/open/a")["Parameter"]["Value"] == "v"


def test_deny_kms_decrypt_for_secure_string(clean_endpoint, ssm_client):
    ssm_client.put_parameter(Name="/kmsdeny/p", Value="topsecret", Type="SecureString")
    control(clean_endpoint, "POST", "/deny", {"action": "kms:Decrypt", "resource_prefix": "/kmsdeny/"})
    ssm_client.get_parameter(Name="/kmsdeny/p")  # no decryption: no KMS call
    with pytest.raises(ClientError) as excinfo:
        ssm_client.get_parameter(Name="/kmsdeny/p", WithDecryption=True)
    code, message = error(excinfo)
    assert code == "AccessDeniedException"
    assert message.startswith("User: arn:aws:iam::123456789012:user/test is not authorized to perform: kms:Decrypt on "
                              "resource: arn:aws:kms:us-east-1:123456789012:key/")
    assert "because no identity-based policy allows the kms:Decrypt action (Service: AWSKMS; Status Code: 400; " \
           "Error Code: AccessDeniedException;" in message


def test_deny_kms_encrypt_and_generate_data_key(clean_endpoint, ssm_client, aws_client):
    control(clean_endpoint, "POST", "/deny", {"action": "kms:Encrypt"})
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/enc/p", Value="v", Type="SecureString")
    assert "not authorized to perform: kms:Encrypt" in error(excinfo)[1]
    ssm_client.put_parameter(Name="/enc/plain", Value="v", Type="String")
    # advanced parameters use a data key instead
    ssm_client.put_parameter(Name="/enc/adv", Value="v", Type="SecureString", Tier="Advanced")
    control(clean_endpoint, "POST", "/deny", {"action": "kms:GenerateDataKey", "resource_prefix": "alias/aws/ssm"})
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/enc/adv2", Value="v", Type="SecureString", Tier="Advanced")
    assert "kms:GenerateDataKey" in error(excinfo)[1]
    # a customer key is not matched by the alias prefix
    key = aws_client("kms").create_key()["KeyMetadata"]["KeyId"]
    ssm_client.put_parameter(Name="/enc/adv3", Value="v", Type="SecureString", Tier="Advanced", KeyId=key)


def test_deny_direct_kms_call(clean_endpoint, aws_client):
    kms = aws_client("kms")
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    control(clean_endpoint, "POST", "/deny", {"action": "kms:Decrypt", "resource_prefix": key["Arn"]})
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=blob)
    code, message = error(excinfo)
    assert code == "AccessDeniedException"
    assert f"kms:Decrypt on resource: {key['Arn']}" in message


def test_bad_deny_request(clean_endpoint):
    status, payload = raw_control(clean_endpoint, "POST", "/_fleetops/deny", json.dumps({"action": "PutParameter"}).encode())
    assert status == 400 and "action" in payload["error"]
