"""The shared action interface: options offered, actions without effect left out, fallbacks."""
import json

from agents.base import ActionChooser, RecentSteps, fallback_action
from scripted_llm import ScriptedChat


def test_actions_repeated_without_effect_are_not_offered():
    recent = RecentSteps(4)
    for action, obs in [("prepare meal", "Something still needs to be cut."), ("look", "A kitchen."),
                        ("prepare meal", "Something  still needs to be cut."), ("look", "A kitchen, a knife.")]:
        recent.add(action, obs)
    assert recent.without_effect() == ["prepare meal"]  # "look" changed what it showed
    llm = ScriptedChat(lambda messages, schema: json.dumps({"action": schema["properties"]["action"]["enum"][0]}))
    chooser = ActionChooser(llm)
    assert chooser.choose("context", ["prepare meal", "take knife", "look"], recent) == "take knife"
    assert llm.requests[0][1]["properties"]["action"]["enum"] == ["take knife", "look"]
    # when every option is stale, all are offered again rather than none
    assert chooser.choose("context", ["prepare meal"], recent) == "prepare meal"


def test_bad_choice_falls_back_to_an_option_not_played_lately():
    recent = RecentSteps(3)
    recent.add("look", "A kitchen.")
    chooser = ActionChooser(ScriptedChat(lambda messages, schema: "no json"))
    assert chooser.choose("context", ["look", "inventory"], recent) == "inventory"
    assert chooser.fallbacks == 1 and chooser.calls == 1
    assert fallback_action(["look"], ["look"]) == "look"
