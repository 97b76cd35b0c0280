# Test stand-in for amazon-ssm-agent, installed by the test package that tests/agent_package/build.sh
# makes. It speaks to the local SSM endpoint (tests/endpoint/), never to AWS:
#
#   amazon-ssm-agent -register -code CODE -id ID -region REGION [-y] [-clear]
#       registers the machine with an activation (POST <endpoint>/_fleetops/agent/register), and
#       saves the registration where the real agent does (/var/lib/amazon/ssm/registration, and a
#       root-only file under Vault/Store);
#   amazon-ssm-agent -register -clear      forgets the registration;
#   amazon-ssm-agent -version              prints the version;
#   amazon-ssm-agent                       runs the agent: reports in every few seconds
#                                          (POST <endpoint>/_fleetops/agent/heartbeat) until SIGTERM.
#
# The endpoint is Ssm.Endpoint of /etc/amazon/ssm/amazon-ssm-agent.json, the setting the real agent
# uses to reach a non-default SSM endpoint. Proxy variables (http_proxy, https_proxy, no_proxy)
# apply as they do to the real agent. Messages follow the real agent's.
"""Test stand-in for amazon-ssm-agent (see the comment above)."""

import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

VERSION = "@VERSION@"
CONFIG = "/etc/amazon/ssm/amazon-ssm-agent.json"
STATE_DIR = "/var/lib/amazon/ssm"
REGISTRATION = STATE_DIR + "/registration"
VAULT = STATE_DIR + "/Vault/Store/RegistrationKey"
LOG_DIR = "/var/log/amazon/ssm"
LOG = LOG_DIR + "/amazon-ssm-agent.log"
HEARTBEAT_SECONDS = float(os.environ.get("FLEETOPS_AGENT_HEARTBEAT_SECONDS", "5"))


def log(level, message):
    line = time.strftime("%Y-%m-%d %H:%M:%S") + f" {level} {message}"
    print(line, flush=True)
    try:
        os.makedirs(LOG_DIR, exist_ok=True)
        with open(LOG, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:
        pass


def endpoint():
    try:
        with open(CONFIG, encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, ValueError):
        config = {}
    url = ((config.get("Ssm") or {}).get("Endpoint") or "").rstrip("/")
    if not url:
        raise RuntimeError(f"no SSM endpoint: set Ssm.Endpoint in {CONFIG} (this test agent only talks to the "
                           "local SSM endpoint)")
    return url


def call(path, body):
    request = urllib.request.Request(endpoint() + "/_fleetops/agent" + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            answer = json.load(exc)
        except ValueError:
            answer = {"code": f"HTTP {exc.code}", "error": exc.reason}
        raise RuntimeError(f"{answer.get('code', 'Error')}: {answer.get('error', '')}") from None


def read_json(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def write_json(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".new"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(temporary, path)


def os_release():
    found = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as fh:
            for line in fh:
                key, dummy, value = line.strip().partition("=")
                found[key] = value.strip('"')
    except OSError:
        pass
    return found.get("NAME", ""), found.get("VERSION_ID", "")


def describe_machine():
    name, version = os_release()
    return {"computer_name": socket.gethostname(), "platform_type": "Linux", "platform_name": name,
            "platform_version": version, "agent_version": VERSION, "ip_address": "127.0.0.1"}


def clear_registration():
    for path in (REGISTRATION, VAULT):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
    log("INFO", "Registration information has been removed from the instance.")
    return 0


def register(args):
    options = {"-code": "", "-id": "", "-region": ""}
    force = clear = False
    index = 0
    while index < len(args):
        arg = args[index].replace("--", "-", 1) if args[index].startswith("--") else args[index]
        if arg in options and index + 1 < len(args):
            options[arg] = args[index + 1]
            index += 2
            continue
        if arg == "-y":
            force = True
        elif arg == "-clear":
            clear = True
        elif arg != "-register":
            return usage()
        index += 1
    if not (options["-code"] and options["-id"] and options["-region"]):
        return clear_registration() if clear else usage()
    if clear:
        clear_registration()
    if not force and read_json(REGISTRATION):
        print("\nInstance already registered. Would you like to override existing with new registration "
              "information? [Yes/No]: ", end="", flush=True)
        answer = sys.stdin.readline().strip().lower()
        if not answer.startswith("y"):
            log("INFO" if answer.startswith("n") else "ERROR",
                "Registration canceled by user" if answer.startswith("n") else "Registration failed due to Invalid response received.")
            return 1
    try:
        answer = call("/register", dict(describe_machine(), activation_code=options["-code"],
                                        activation_id=options["-id"], region=options["-region"]))
    except (RuntimeError, OSError) as exc:
        log("ERROR", f"Registration failed due to error registering the instance with AWS SSM. {exc}")
        return 1
    write_json(VAULT, {"ManagedInstanceID": answer["instance_id"], "Region": answer["region"],
                       "Token": answer["token"]}, 0o600)
    write_json(REGISTRATION, {"ManagedInstanceID": answer["instance_id"], "Region": answer["region"]}, 0o644)
    log("INFO", f"Successfully registered the instance with AWS SSM using Managed instance-id: {answer['instance_id']}")
    return 0


def usage():
    sys.stderr.write("\n\nCommand-line Usage:\n\t-register\tregister managed instance\n"
                     "\t\t-id\tSSM activation ID    \t(REQUIRED)\n\t\t-code\tSSM activation code\t(REQUIRED)\n"
                     "\t\t-region\tSSM region       \t(REQUIRED)\n\n\t\t-clear\tClears the previously saved SSM "
                     "registration\n\n\t-y\tAnswer yes for all questions\n")
    return 1


def run():
    stopping = []
    signal.signal(signal.SIGTERM, lambda *args: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *args: stopping.append(True))
    log("INFO", f"Amazon SSM Agent v{VERSION} is running")
    quiet = False
    while not stopping:
        vault = read_json(VAULT)
        if not vault:
            if not quiet:
                log("INFO", "Entering SSM Agent hibernate - no registration on this machine "
                            "(register with amazon-ssm-agent -register)")
                quiet = True
        else:
            quiet = False
            try:
                call("/heartbeat", dict(describe_machine(), instance_id=vault["ManagedInstanceID"], token=vault["Token"]))
            except (RuntimeError, OSError) as exc:
                log("ERROR", f"error reporting to SSM: {exc}")
        deadline = time.time() + HEARTBEAT_SECONDS
        while not stopping and time.time() < deadline:
            time.sleep(0.2)
    vault = read_json(VAULT)
    if vault:
        try:
            call("/heartbeat", {"instance_id": vault["ManagedInstanceID"], "token": vault["Token"], "stopping": True})
        except (RuntimeError, OSError):
            pass
    log("INFO", "Stopping Amazon SSM Agent")
    return 0


def main(args):
    if not args:
        return run()
    if args[0] in ("-version", "--version"):
        print(f"SSM Agent version: {VERSION}")
        return 0
    if "-register" in args or "--register" in args:
        return register(args)
    return usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
