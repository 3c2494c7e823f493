"""What a runbook is, as data (no CDK import): its stable name, its parameters and its schema-0.3 content.

The email side (``responder.domain.runbooks``) knows only names and parameter patterns; a contract test
(tests/infrastructure/test_runbook_catalogue.py) keeps the two identical, as infra never imports the
Lambda package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Param:
    """One document parameter; ``default`` None means required."""

    name: str
    type: Literal["String", "StringList", "Boolean"]
    description: str
    pattern: str | None = None  # the document's allowedPattern (Java and Python read it alike)
    default: str | None = None


@dataclass(frozen=True)
class ContentContext:
    """What a document's content depends on at synth time."""

    role_arn: Any  # the runbook role's ARN: a string, or a CloudFormation token/intrinsic
    approval: Any | None = None  # None: no aws:approve step; else {"approvers": ..., "topic_arn": ...}


@dataclass(frozen=True)
class Runbook:
    """One SSM Automation document the stack deploys."""

    key: str  # "isolate" | "restore" | "credentials" | "reactivate" | "public_access" | "archive"
    name: str  # the document's fixed name (the email prints it)
    description: str
    params: tuple[Param, ...]
    approvable: bool  # containment runbooks: an aws:approve step first when approvers are configured
    content: Callable[[ContentContext], dict[str, Any]]  # the schema-0.3 document
