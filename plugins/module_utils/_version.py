# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""The collection's name and version, for the AWS user agent."""

from __future__ import annotations

COLLECTION_NAME = "fleetops.ssm"
COLLECTION_VERSION = "0.1.0"
