# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""What only the inventory plugin needs: checking regions before any API call.

Reading the nodes themselves (batches, threads, records) is shared with the managed_node_info module
and lives in module_utils/_nodes.py.
"""

from __future__ import annotations

import re

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def known_regions(session):
    """Every region botocore knows SSM in, over all partitions."""
    regions = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ssm", partition_name=partition))
    return regions


def unknown_regions(regions, session):
    """The regions that are not SSM regions botocore knows, nor look like one."""
    known = known_regions(session)
    return [region for region in regions if region not in known or not _REGION_RE.match(region)]
