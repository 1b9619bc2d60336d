"""A pure scripted policy for agent tests: the same prompt always gets the same reply, so a run can
be replayed from a response cache. An action is the first option not yet shown in the prompt's
recent actions."""
import json


def choose(messages, schema):
    prompt = messages[-1]["content"]
    options = schema["properties"]["action"]["enum"]
    return json.dumps({"action": next((o for o in options if f"> {o}:" not in prompt), options[0])})
