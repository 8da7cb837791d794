"""Model extras the sandbox ships: operations AWS documents that botocore's model lacks.

The API document for AWS DevOps Agent lists four operations botocore does not have yet
(`initiate_chat_for_case`, `end_chat_for_case`, `describe_support_level`,
`allow_vended_log_delivery_for_resource`). botocore's own mechanism for extra model members is
an `<type>.sdk-extras.json` file beside a model on its data path: the loader deep-merges its
`merge` object into the model it loads (`botocore.loaders.Loader.load_service_model`, the
`sdk` extras type). The data path is botocore's `data_path` setting (`AWS_DATA_PATH`, a list
of folders), searched before botocore's own data.

`DATA_PATH` holds `devops-agent/2026-01-01/service-2.sdk-extras.json`. The sandbox's models
always include it; the console's clients include it with the sandbox backend (the transport
adds it). Any other botocore client gets the operations with `AWS_DATA_PATH=<DATA_PATH>`.
Their HTTP bindings are the sandbox's own: AWS has not published them. The file defines
every shape it uses but the service's standard errors, so it merges into older and newer
`devops-agent` models alike (the AWS CLI's own botocore among them).
"""

from __future__ import annotations

import os
from pathlib import Path

import botocore.session

DATA_PATH = Path(__file__).resolve().parent / "botocore_data"


def add_data_path(session: botocore.session.Session) -> botocore.session.Session:
    """Put `DATA_PATH` first on `session`'s data path (before its loader is built)."""
    current = session.get_config_variable("data_path")
    folders = [str(DATA_PATH), *(current.split(os.pathsep) if current else [])]
    session.set_config_variable("data_path", os.pathsep.join(dict.fromkeys(folders)))
    return session


def session() -> botocore.session.Session:
    """A botocore session whose models include the sandbox's extras."""
    return add_data_path(botocore.session.get_session())
