"""Pure suppression: findings the operator chose not to be emailed about.

Rules come from settings (finding-type glob patterns, account ids, one resource tag).
Every match names its rule so the skip can be logged and counted.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from responder.domain.models import Finding
from responder.domain.resource_models import Resource, Tag
from responder.domain.settings import Settings


def resource_tags(resource: Resource | None) -> list[Tag]:
    """Tags of the affected resource, whichever resource block carries them."""
    if resource is None:
        return []
    blocks = (
        resource.instance_details,
        resource.eks_cluster_details,
        resource.ecs_cluster_details,
        resource.lambda_details,
        resource.rds_db_instance_details,
        *(resource.s3_bucket_details or []),
    )
    return [tag for block in blocks if block is not None for tag in block.tags or []]


def suppressed_by(finding: Finding, settings: Settings) -> str | None:
    """The rule that suppresses this finding, or ``None``."""
    for pattern in settings.suppress_types:
        if fnmatchcase(finding.type, pattern):
            return f"finding type matches {pattern}"
    if finding.account_id in settings.suppress_accounts:
        return f"account {finding.account_id}"
    if settings.suppress_tag is not None:
        key, value = settings.suppress_tag
        if any(tag.key == key and (tag.value or "") == value for tag in resource_tags(finding.resource)):
            return f"resource tag {key}={value}"
    return None
