"""Patterns of TextWorld commands (lower-cased), shared by the modules that weigh candidates."""
import re

TAKE = re.compile(r"^take (.+?)(?: from (.+))?$")
PUT = re.compile(r"^(?:put|insert) (.+?) (?:on|into|in) (.+)$")
OPEN = re.compile(r"^open (.+)$")
UNLOCK = re.compile(r"^unlock (.+) with (.+)$")
EXAMINE = re.compile(r"^(?:examine|read) (.+)$")
CONSUME = re.compile(r"^(eat|drink) (.+)$")
GO = re.compile(r"^go (\w+)$")
