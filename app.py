#!/usr/bin/env python3
"""CDK entry point: `npx cdk deploy` (see README, Deploy)."""

from infra.app import build_app

build_app().synth()
