# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# pylint: disable-next=unused-import
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import (  # noqa: F401
    aws_env, fake_s3, fake_ssm, node_home, node_home_without_timeout, short_dir)
