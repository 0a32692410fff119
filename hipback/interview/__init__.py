"""The interactive questionnaire: the ask command's flow and its prompts."""
