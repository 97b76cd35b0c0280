# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: session
short_description: Run tasks on managed nodes through AWS Systems Manager Session Manager
version_added: 0.1.0
author: FleetOps SSM maintainers (@fleetops)
description:
  - Runs tasks on EC2 instances (C(i-)) and hybrid managed nodes (C(mi-)) through a Session Manager
    session, with the C(session-manager-plugin) binary. No SSH, no inbound port, and no S3 bucket
    unless O(transfer_method) asks for one.
  - One session per host is kept open for the whole run by a helper process, like SSH's
    ControlPersist, and reached over a unix socket in a private directory (O(control_path_dir)).
    A run makes one C(StartSession) per host; tasks sent to the same host at once are served one
    after the other.
  - The shell of the session is switched to raw mode without echo and driven with a framing
    protocol, so stdout, stderr and the exit code come back exact and separate, binary-safe, with
    any POSIX C(sh) (bash or dash) and without Python on the node (M(ansible.builtin.raw) works).
  - Pipelining is supported, with or without become; modules then never touch the node's disk.
  - Files are transferred through the session itself, in chunks, checked with SHA-256, or, with
    O(transfer_method), through an S3 bucket (for large files).
  - Module code is sent to a node once per session. The base64 zip of a pipelined module is kept
    in a private (0700) directory of the session under the session user's C(TMPDIR) (C(/tmp)), and
    later tasks name it instead of sending it again. Long base64 data crosses the channel without
    being encoded again, and other input is compressed when the node has C(gzip).
notes:
  - C(remote_user) / C(ansible_user) do not apply. Sessions run as C(ssm-user), or as the RunAs
    user of the session document (O(document_name)); use become (sudo) for other users.
  - There is no command timeout unless O(command_timeout) is set. A node that goes down, a
    channel that drops or a C(session-manager-plugin) that dies is detected within seconds
    (O(connection_check_interval)) and reported as unreachable; a command that may have started
    is never sent again.
  - The helper ends its session when the run that started it ends, after O(persist_idle_timeout)
    seconds without a task, when the session dies, or on a connection reset
    (M(ansible.builtin.reboot) resets the connection and reconnects once the node is back).
  - The StartSession response (with the session token) reaches the plugin binary through the
    environment variable C(AWS_SSM_START_SESSION_RESPONSE) when the binary is newer than
    1.2.497.0; with older versions it is on the binary's command line, visible in the process
    list, and a warning says so. Tokens and credentials are never logged; at C(-vvv) commands
    are logged, except those of C(no_log) tasks, and module data never is.
  - A session that ends normally removes its directory from the node (C(fleetops-ssm.*) under
    C(/tmp)). One whose node went down, or whose command outlived O(command_timeout), cannot;
    the next session of the same user removes such directories once they are a day old.
  - A file transfer that fails or is interrupted removes its temporary C(.part) file on the node
    while the session still works; a command killed on the node (O(command_timeout)) removes
    its own.
  - The become password prompt is not supported; become needs passwordless sudo (the default
    for C(ssm-user)).
  - Only Linux/Unix nodes (POSIX C(sh)); PowerShell is not supported.
requirements:
  - boto3 and botocore on the controller.
  - The C(session-manager-plugin) binary on the controller.
  - On the node, the SSM Agent and a POSIX C(sh) with C(stty), C(head), C(base64), C(mktemp),
    C(sha256sum), C(cat) (coreutils or busybox); C(gzip) is used when present.
  - IAM permissions C(ssm:StartSession), C(ssm:TerminateSession), C(ssm:DescribeSessions) and
    C(ssm:GetConnectionStatus); with O(transfer_method=s3), S3 permissions on the bucket (see O(bucket_name)).
  - With O(transfer_method=s3), C(curl) or C(python3) on the node.
options:
  remote_addr:
    description:
      - The instance id of the node (C(i-...) or C(mi-...)) unless O(instance_id) is set.
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: delegated_vars['ansible_host']
  instance_id:
    description:
      - The instance id of the node, C(i-...) or C(mi-...). Overrides O(remote_addr).
    type: str
    vars:
      - name: ansible_fleetops_ssm_instance_id
  remote_user:
    description:
      - Not applicable, sessions run as C(ssm-user) or the RunAs user of the session document.
        Ignored.
    type: str
    vars:
      - name: ansible_user
  plugin:
    description:
      - The C(session-manager-plugin) binary, a path or a name looked up in E(PATH).
    type: str
    default: session-manager-plugin
    env:
      - name: FLEETOPS_SSM_SESSION_PLUGIN
    vars:
      - name: ansible_fleetops_ssm_plugin
  document_name:
    description:
      - The Session document to start sessions with, for custom settings and RunAs users.
      - The default is the account's Session Manager preferences (C(SSM-SessionManagerRunShell)).
    type: str
    vars:
      - name: ansible_fleetops_ssm_document_name
  session_start_timeout:
    description:
      - Seconds to wait for a new session to give a working shell.
    type: int
    default: 60
    vars:
      - name: ansible_fleetops_ssm_session_start_timeout
  persist_idle_timeout:
    description:
      - Seconds without a task after which the helper ends the session and exits.
    type: int
    default: 60
    env:
      - name: FLEETOPS_SSM_PERSIST_IDLE_TIMEOUT
    vars:
      - name: ansible_fleetops_ssm_persist_idle_timeout
  command_timeout:
    description:
      - Seconds a command may run. V(0) (the default) means no limit.
      - When a command runs longer, it is killed on the node (with the node's C(timeout) command) and the task fails;
        without C(timeout) on the node, the session is closed 15 seconds later.
    type: int
    default: 0
    vars:
      - name: ansible_fleetops_ssm_command_timeout
  connection_check_interval:
    description:
      - While a command sends no output, every this many seconds the node's connection
        (C(GetConnectionStatus)) and the session (C(DescribeSessions)) are checked.
    type: int
    default: 5
    vars:
      - name: ansible_fleetops_ssm_connection_check_interval
  transfer_chunk_size:
    description:
      - Bytes of a file sent per request by put_file; memory use is about this size.
    type: int
    default: 4194304
    vars:
      - name: ansible_fleetops_ssm_transfer_chunk_size
  max_transfer_size:
    description:
      - Largest file, in bytes, that put_file and fetch_file transfer, in-band or through S3. V(0) means no limit.
    type: int
    default: 4294967296
    vars:
      - name: ansible_fleetops_ssm_max_transfer_size
  transfer_method:
    description:
      - How put_file and fetch_file (M(ansible.builtin.copy), M(ansible.builtin.fetch), M(ansible.builtin.template), ...)
        move files.
      - V(in_band) sends them through the session itself; no S3 bucket is needed.
      - V(s3) sends every file through the S3 bucket O(bucket_name). The controller uploads or
        downloads the object; the node downloads or uploads it from a presigned URL with C(curl),
        or C(python3) when the node has no curl. The HTTP status, the size and the SHA-256 of
        every file are checked, a file is renamed into place only once it is complete and
        verified, and the object is deleted afterwards.
      - V(auto) sends files of at least O(s3_transfer_threshold) bytes through S3 and smaller
        ones in-band (for fetch_file the size of the file is read first).
    type: str
    choices: [in_band, s3, auto]
    default: in_band
    env:
      - name: FLEETOPS_SSM_TRANSFER_METHOD
    vars:
      - name: ansible_fleetops_ssm_transfer_method
  s3_transfer_threshold:
    description:
      - With O(transfer_method=auto), files of at least this many bytes go through S3.
    type: int
    default: 16777216
    vars:
      - name: ansible_fleetops_ssm_s3_transfer_threshold
  bucket_name:
    description:
      - The S3 bucket of O(transfer_method=s3) and O(transfer_method=auto). Required by them.
      - Each transfer uses an object of its own, deleted afterwards; a lifecycle rule that
        expires objects under O(bucket_prefix) after a day removes any left by an interrupted run.
      - Needs C(s3:PutObject), C(s3:GetObject) and C(s3:DeleteObject) on the objects, and
        C(s3:GetBucketLocation) on the bucket unless O(bucket_endpoint_url) is set.
        The nodes need network access to S3 (or to O(bucket_endpoint_url)), not IAM permissions.
    type: str
    env:
      - name: FLEETOPS_SSM_BUCKET_NAME
    vars:
      - name: ansible_fleetops_ssm_bucket_name
  bucket_prefix:
    description:
      - The key prefix of the transfers' objects, a folder of the bucket (a V(/) is added when missing).
        Objects are named C(<prefix><instance id>/<random>-<file name>).
    type: str
    default: ""
    vars:
      - name: ansible_fleetops_ssm_bucket_prefix
  bucket_endpoint_url:
    description:
      - The S3 endpoint, for S3-compatible storage, VPC endpoints or tests. The presigned URLs
        point at it, so the nodes must reach it too.
      - The default is AWS's regional S3 endpoint of the bucket's region.
    type: str
    vars:
      - name: ansible_fleetops_ssm_bucket_endpoint_url
  bucket_sse_mode:
    description:
      - Server-side encryption of the transfers' objects. The default is the bucket's own default encryption.
    type: str
    choices: [AES256, aws:kms]
    vars:
      - name: ansible_fleetops_ssm_bucket_sse_mode
  bucket_sse_kms_key_id:
    description:
      - The KMS key (id, ARN or alias) of O(bucket_sse_mode=aws:kms). The default is the account's
        AWS managed key for S3.
    type: str
    vars:
      - name: ansible_fleetops_ssm_bucket_sse_kms_key_id
  s3_addressing_style:
    description:
      - The S3 addressing style of the presigned URLs. V(path) is needed by endpoints without
        bucket host names (and by bucket names with dots over HTTPS).
    type: str
    choices: [auto, path, virtual]
    default: auto
    vars:
      - name: ansible_fleetops_ssm_s3_addressing_style
  control_path_dir:
    description:
      - The private (0700) directory of the helpers' sockets and logs.
    type: path
    default: ~/.ansible/cp-ssm
    env:
      - name: FLEETOPS_SSM_CONTROL_PATH_DIR
    vars:
      - name: ansible_fleetops_ssm_control_path_dir
  pipelining:
    description:
      - Pipelining, modules are sent on the stdin of the interpreter (Ansible's C(pipelining) setting).
    type: bool
    default: false
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
    vars:
      - name: ansible_pipelining
  region:
    vars:
      - name: ansible_fleetops_ssm_region
  profile:
    vars:
      - name: ansible_fleetops_ssm_profile
  endpoint_url:
    vars:
      - name: ansible_fleetops_ssm_endpoint_url
extends_documentation_fragment:
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
"""

EXAMPLES = r"""
# Inventory (INI): the host name or ansible_host is the instance id
# [nodes]
# web-1 ansible_host=mi-0123456789abcdef0
# web-2 ansible_host=i-0123456789abcdef0
#
# [nodes:vars]
# ansible_connection=fleetops.ssm.session
# ansible_fleetops_ssm_region=eu-west-1

- name: Patch the nodes
  hosts: nodes
  become: true
  tasks:
    - name: Upgrade every package (no command timeout by default, so long runs work)
      ansible.builtin.apt:
        upgrade: dist
        update_cache: true

    - name: Reboot and wait for the node to come back
      ansible.builtin.reboot:

- name: Copy large files through an S3 bucket, small ones through the session
  hosts: nodes
  vars:
    ansible_fleetops_ssm_transfer_method: auto
    ansible_fleetops_ssm_bucket_name: fleet-transfers
    ansible_fleetops_ssm_bucket_prefix: ansible/transfers
    ansible_fleetops_ssm_bucket_sse_mode: aws:kms
    ansible_fleetops_ssm_bucket_sse_kms_key_id: alias/fleet-transfers
  tasks:
    - name: Ship the release archive (over s3_transfer_threshold, so through S3)
      ansible.builtin.copy:
        src: dist/app-1.4.2.tar.gz
        dest: /opt/app/releases/
        mode: "0644"

- name: Run as a RunAs user with a custom session document and a command timeout
  hosts: nodes
  vars:
    ansible_fleetops_ssm_document_name: Ops-RunAsDeploy
    ansible_fleetops_ssm_command_timeout: 600
  tasks:
    - name: Deploy
      ansible.builtin.command: /opt/deploy/run
      changed_when: true
"""

import os
import re
import shutil

from ansible.errors import AnsibleConnectionFailure
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionClient
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionUnreachable
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_s3 import S3Settings
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_s3 import S3Store
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import fetch_file
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import put_file
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import remote_size
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import s3_fetch_file
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import s3_put_file

display = Display()

INSTANCE_ID_RE = re.compile(r"^(i-[0-9a-f]{8}([0-9a-f]{9})?|mi-[0-9a-f]{17})$")
INSTALL_HINT = (
    "install it from https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html (for example the .deb or .rpm package), "
    "or point the 'plugin' option (FLEETOPS_SSM_SESSION_PLUGIN, ansible_fleetops_ssm_plugin) at it"
)


def resolve_plugin(name: str) -> str:
    """The absolute path of the session-manager-plugin binary, or AnsibleError with a hint."""
    name = os.path.expanduser(name)
    path = shutil.which(name) if os.sep not in name else (name if os.access(name, os.X_OK) and os.path.isfile(name) else None)
    if not path:
        raise AnsibleError("The session-manager-plugin binary was not found (%s): %s" % (name, INSTALL_HINT))
    return os.path.abspath(path)


def instance_id_of(value: str) -> str:
    value = (value or "").strip()
    if not INSTANCE_ID_RE.match(value):
        raise AnsibleError(
            "'%s' is not an instance id (i-... or mi-...): set ansible_host or ansible_fleetops_ssm_instance_id" % value)
    return value


def aws_credentials(options: dict) -> tuple:
    """The credentials for boto3 and the TLS verification setting, as the amazon.aws plugins read them.

    A profile and keys together are refused. Done without boto3: the helper process that holds
    the session is the only one to import it.
    """
    profile = options.get("profile") or None
    keys = {
        "aws_access_key_id": options.get("access_key") or None,
        "aws_secret_access_key": options.get("secret_key") or None,
        "aws_session_token": options.get("session_token") or None,
    }
    if profile and any(keys.values()):
        raise AnsibleError("Passing both a profile and access tokens is not supported: set either the profile "
                           "option (AWS_PROFILE) or access_key/secret_key/session_token (AWS_ACCESS_KEY_ID, ...)")
    if profile:
        keys = dict.fromkeys(keys)
    keys["profile_name"] = profile
    validate = options.get("validate_certs")
    verify = options.get("aws_ca_bundle") if validate and options.get("aws_ca_bundle") else validate
    return {k: to_text(v) if isinstance(v, bytes) else v for k, v in keys.items()}, verify


def censor(cmd: str, limit: int = 2000) -> str:
    """The command as logged at -vvv: long commands are cut (module data is never in them)."""
    return cmd if len(cmd) <= limit else cmd[:limit] + " ...(%d more characters)" % (len(cmd) - limit)


class Connection(ConnectionBase):
    """Session Manager connection with persistent sessions and an exact framing protocol."""

    transport = "fleetops.ssm.session"
    has_pipelining = True
    has_tty = False
    allow_executable = True
    module_implementation_preferences = (".py", "")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client = None
        self._instance_id = None
        self._s3 = None
        # Why the session died: later requests of this connection (Ansible's clean-up of the
        # task's temporary directory, for one) report it instead of starting a new session.
        self._unreachable = None

    # ------------------------------------------------------------------ setup
    def _session_config(self) -> dict:
        instance = self.get_option("instance_id") or self.get_option("remote_addr")
        self._instance_id = instance_id_of(instance)
        plugin = resolve_plugin(self.get_option("plugin"))
        defined = self.get_options()
        options = {k: defined.get(k) for k in (
            "access_key", "secret_key", "session_token", "profile", "endpoint_url", "region",
            "aws_ca_bundle", "validate_certs", "aws_config")}
        credentials, verify = aws_credentials(options)
        region = options.get("region")
        if not region:
            # only now boto3 is imported: every task of a run runs in a new process, and
            # importing it costs more than the rest of the plugin's work for a task
            region = self._default_region(options.get("profile"))
        if not region:
            raise AnsibleError("fleetops.ssm.session needs a region: set the region option, "
                               "ansible_fleetops_ssm_region, AWS_REGION or a profile's region")
        return {
            "owner_pid": os.getppid(),
            "instance_id": self._instance_id,
            "region": region,
            "endpoint_url": options.get("endpoint_url") or None,
            "credentials": credentials,
            "profile": options.get("profile"),
            "verify": verify,
            "aws_config": options.get("aws_config"),
            "assume_role_arn": self.get_option("assume_role_arn"),
            "plugin": plugin,
            "document_name": self.get_option("document_name"),
            "session_start_timeout": self.get_option("session_start_timeout"),
            "idle_timeout": self.get_option("persist_idle_timeout"),
            "check_interval": max(1, self.get_option("connection_check_interval")),
        }

    @staticmethod
    def _default_region(profile):
        try:
            import boto3  # pylint: disable=import-outside-toplevel
            import botocore.exceptions  # pylint: disable=import-outside-toplevel
        except ImportError:
            return None
        try:
            return boto3.session.Session(profile_name=profile or None).region_name
        except botocore.exceptions.BotoCoreError:
            # a missing or broken profile: the region then has to come from the options
            return None

    def _connect(self):
        if self._connected and self._client is not None:
            return self
        cfg = self._session_config()
        try:
            self._client = SessionClient(cfg, self.get_option("control_path_dir"), warn=display.warning)
        except SessionError as e:
            raise AnsibleError("%s: %s" % (self._instance_id, e)) from e
        display.vvv("SESSION %s (region %s, helper socket %s)" % (self._instance_id, cfg["region"], self._client.socket_path),
                    host=self._instance_id)
        self._connected = True
        return self

    def _run(self, func, *args, **kwargs):
        if self._unreachable:
            raise AnsibleConnectionFailure(self._unreachable)
        try:
            return func(*args, **kwargs)
        except SessionUnreachable as e:
            self._connected = False
            self._unreachable = "%s: %s" % (self._instance_id, e)
            raise AnsibleConnectionFailure(self._unreachable) from e
        except SessionError as e:
            raise AnsibleError("%s: %s" % (self._instance_id, e)) from e

    # ------------------------------------------------------------------ API
    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        if getattr(self._play_context, "no_log", False):
            display.vvv("EXEC (command hidden: no_log)", host=self._instance_id)
        else:
            display.vvv("EXEC %s%s" % (censor(to_text(cmd)), " (with %d bytes of stdin, not shown)" % len(in_data)
                                       if in_data else ""), host=self._instance_id)
        timeout = self.get_option("command_timeout") or None
        # in_data is a pipelined module: its code (the base64 zip) is kept on the node for the session
        rc, stdout, stderr = self._run(self._client.exec_command, to_text(cmd),
                                       to_bytes(in_data) if in_data is not None else None, timeout,
                                       cache=in_data is not None)
        if sudoable and self.become and self.become.success:
            stdout = self._strip_become(stdout)
        return rc, stdout, stderr

    def _strip_become(self, stdout: bytes) -> bytes:
        marker = to_bytes(self.become.success)
        lines = stdout.split(b"\n", 1)
        if lines and lines[0].strip() == marker:
            return lines[1] if len(lines) > 1 else b""
        return stdout

    def _transfer_method(self) -> str:
        """in_band, s3 or auto, after checking the S3 options (before anything is transferred)."""
        method = self.get_option("transfer_method") or "in_band"
        if method == "in_band":
            return method
        if not self.get_option("bucket_name"):
            raise AnsibleError("transfer_method=%s needs an S3 bucket: set bucket_name (ansible_fleetops_ssm_bucket_name "
                               "or FLEETOPS_SSM_BUCKET_NAME), or use transfer_method=in_band" % method)
        if self.get_option("bucket_sse_kms_key_id") and self.get_option("bucket_sse_mode") != "aws:kms":
            raise AnsibleError("bucket_sse_kms_key_id needs bucket_sse_mode=aws:kms (it is %s)"
                               % (self.get_option("bucket_sse_mode") or "not set"))
        return method

    def _s3_store(self) -> S3Store:
        settings = S3Settings(
            bucket=self.get_option("bucket_name"),
            prefix=self.get_option("bucket_prefix") or "",
            endpoint_url=self.get_option("bucket_endpoint_url"),
            addressing_style=self.get_option("s3_addressing_style"),
            sse_mode=self.get_option("bucket_sse_mode"),
            kms_key_id=self.get_option("bucket_sse_kms_key_id"),
        )
        if self._s3 is None or vars(self._s3.settings) != vars(settings):
            self._s3 = S3Store(self._client.cfg, settings, touch=self._client.touch)
        return self._s3

    def _warn_leftovers(self) -> None:
        if self._s3 is not None:
            for msg in self._s3.leftovers:
                display.warning("%s: a transfer's S3 object was not deleted: %s" % (self._instance_id, msg))
            self._s3.leftovers = []

    def put_file(self, in_path, out_path):
        method = self._transfer_method()  # before the session: bad options change nothing
        super().put_file(in_path, out_path)
        self._connect()
        in_path, out_path = to_text(in_path), to_text(out_path)
        timeout = self.get_option("command_timeout") or None
        max_size = self.get_option("max_transfer_size")
        if method == "auto":
            try:
                size = os.path.getsize(in_path)
            except OSError as e:
                raise AnsibleError("%s: cannot read %s: %s" % (self._instance_id, in_path, e)) from e
            method = "s3" if size >= self.get_option("s3_transfer_threshold") else "in_band"
        if method == "s3":
            store = self._s3_store()
            display.vvv("PUT %s TO %s (through s3://%s)" % (in_path, out_path, store.settings.bucket),
                        host=self._instance_id)
            try:
                self._run(s3_put_file, self._client, store, self._instance_id, in_path, out_path, max_size, timeout)
            finally:
                self._warn_leftovers()
            return
        display.vvv("PUT %s TO %s" % (in_path, out_path), host=self._instance_id)
        self._run(put_file, self._client, in_path, out_path, self.get_option("transfer_chunk_size"), max_size, timeout)

    def fetch_file(self, in_path, out_path):
        method = self._transfer_method()  # before the session: bad options change nothing
        super().fetch_file(in_path, out_path)
        self._connect()
        in_path, out_path = to_text(in_path), to_text(out_path)
        timeout = self.get_option("command_timeout") or None
        max_size = self.get_option("max_transfer_size")
        if method == "auto":
            size = self._run(remote_size, self._client, in_path, timeout)
            method = "s3" if size >= self.get_option("s3_transfer_threshold") else "in_band"
        if method == "s3":
            store = self._s3_store()
            display.vvv("FETCH %s TO %s (through s3://%s)" % (in_path, out_path, store.settings.bucket),
                        host=self._instance_id)
            try:
                self._run(s3_fetch_file, self._client, store, self._instance_id, in_path, out_path, max_size, timeout)
            finally:
                self._warn_leftovers()
            return
        display.vvv("FETCH %s TO %s" % (in_path, out_path), host=self._instance_id)
        self._run(fetch_file, self._client, in_path, out_path, max_size, timeout)

    def reset(self):
        """End this host's session (and helper): the next task starts a new one."""
        if self._client is None:
            try:
                self._connect()
            except AnsibleError:
                return
        display.vvv("RESET: closing the session helper", host=self._instance_id)
        self._unreachable = None
        self._client.close_helper()
        self._connected = False

    def close(self):
        # The session stays with the helper for the next task; reset() ends it.
        self._connected = False
