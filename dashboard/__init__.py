"""Operator console for AWS DevOps Agent and Amazon Bedrock AgentCore."""
