"""The SSM Automation runbooks the stack deploys (issue 14): documents as data, the grants each needs,
and the construct that deploys them. Nothing here starts a runbook: a person does, with their own identity."""
