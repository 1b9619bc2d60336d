"""Ariadne's generic layer, piece by piece: instructions read into plans, commands built from
memory, the goal's priors, undo and cycle penalties, and remembered failures."""
import shutil
from pathlib import Path

import pytest

from graphmem import Memory
from graphmem.profiles import INVENTORY
from graphmem.spatial import with_room

from graphmem_agents.arithmetic import answers
from graphmem_agents.ariadne import Ariadne
from graphmem_agents.candidates import from_memory, move_verb
from graphmem_agents.cycles import CycleGuard, undoes
from graphmem_agents.commands import readable
from graphmem_agents.effects import NEVER, OFFER, EffectTracker, refused
from graphmem_agents.goal import GoalReader, quantity
from graphmem_agents.navigation import RoomMap
from graphmem_agents.instructions import carries_out, read_goal_plan, read_plan
from graphmem_agents.prerequisites import HeatSources, step_work
from graphmem_agents.runner import run_episode
from graphmem_agents.world import WorldView
from graphmem_environments.episode import StepResult, Task
from graphmem_environments.twx import TWXEnv
from fakes import HashingEmbedder
from scripted_llm import ScriptedChat


def test_an_ordered_list_keeps_the_games_words_and_is_followed_step_by_step():
    plan = read_plan("Simon says, take these actions in order: examine pea, turn around in a circle, touch pea, "
                     "jump up and down.")
    assert plan.steps == ["examine pea", "turn around in a circle", "touch pea", "jump up and down"] and plan.ordered
    assert plan.wanted() == ["examine pea"]
    assert not plan.played("touch pea")  # out of order: not the next step
    assert plan.played("examine pea") and plan.wanted() == ["turn around in a circle"]


def test_quoted_commands_task_sentences_and_headed_lists():
    assert read_plan("Simon says, 'touch the pea'.").steps == ["touch the pea"]
    assert read_plan("Simon says, 'meow like a cat'.").steps == ["meow like a cat"]  # told: any verb
    assert read_plan("The current task is to take the eggplant.").steps == ["take eggplant"]
    recipe = read_plan("Ingredients:\n  red apple\n\nDirections:\n  slice the red apple\n  prepare meal\n")
    assert recipe.steps == ["take red apple", "slice red apple", "prepare meal"] and not recipe.ordered
    assert recipe.wanted() == ["take red apple", "slice red apple"]  # the list's last step ends it
    assert recipe.played("take red apple") and recipe.played("slice red apple") and recipe.wanted() == ["prepare meal"]
    early = read_plan("Ingredients:\n  red apple\n\nDirections:\n  slice the red apple\n  prepare meal\n")
    assert early.played("prepare meal") and early.wanted() == ["take red apple", "slice red apple"]  # done already
    assert read_plan("Your task is to do exactly what Simon says.") is None
    assert read_plan("'Hello there,' says the old man.") is None  # quoted prose is no command


def test_a_goal_told_in_prose_becomes_ordered_steps():
    goal = ("Welcome to TextWorld! First of all, you could, like, open the gate in the cellar. Then, travel "
            "east. After that, try to travel south. After that, pick up the key from the floor of the bedroom. "
            "And if you do that, you're the winner!")
    assert read_goal_plan(goal).steps == ["open gate", "go east", "go south", "take key"]
    mapped = read_goal_plan("Your task is to take the coin that is located in the shower, and put it into "
                            "the box found in the bar.")
    assert mapped.steps == ["take coin", "put coin in box"]
    assert read_goal_plan("The dinner is almost ready! It's only missing a grilled lettuce.") is None
    assert read_goal_plan("First of all, make an attempt to go west. Once you finish that, ensure that the gateway "
                          "is open. Then, attempt to venture north.").steps == ["go west", "open gateway", "go north"]


def test_a_command_carries_out_a_step_in_the_games_own_phrasing():
    assert carries_out("insert coin into box", "put coin in box")
    assert carries_out("move west", "go west")
    assert carries_out("slice red apple with knife", "slice red apple")
    assert not carries_out("take coin", "take coin from floor") and not carries_out("take key", "take")


def _view(*observations: str, room: str = "kitchen") -> WorldView:
    memory = Memory(embedder=HashingEmbedder())
    for i, text in enumerate(observations, 1):
        memory.observe(with_room(text, room), i)
    return WorldView.read(memory.current(), room)


def test_commands_from_memory_cover_what_was_seen_and_skip_refused_verbs():
    view = _view("In one part of the room you see a counter that has a knife, and a cookbook on it. There is "
                 "also a fridge that is closed. To the West you see the corridor.", "You take the coin.")
    commands = from_memory(view, set())
    for c in ("take knife", "read cookbook", "open fridge", "go west", "examine counter", "put coin on counter",
              "drop coin"):
        assert c in commands, c
    assert "take counter" not in commands  # it holds things: furniture
    refused_go = from_memory(view, {"go"})
    assert "move west" in refused_go and "go west" not in refused_go and move_verb({"go"}) == "move"


def test_the_goal_names_what_to_take_and_charges_for_anything_else():
    view = _view("In one part of the room you see a coin. There is also a red ball.")
    goal = GoalReader("Your task is to find the coin. Once you find it, take it.")
    named = bool(goal.named_things(view))
    assert goal.prior("take coin", view, named) > 0 > goal.prior("take red ball", view, named)
    assert GoalReader("Win the game.").prior("take red ball", view, False) == 0
    assert goal.prior("eat coin", view, named) < 0 == goal.prior("eat red ball", view, named)  # wanted, not eaten
    assert GoalReader("Find the apple and eat it.").prior("eat apple", view, False) > 0
    hungry = GoalReader("You are hungry! Cook a meal, then enjoy your meal!")
    hungry.instructed(read_plan("Ingredients:\n  red apple\n\nDirections:\n  prepare meal\n"))
    assert hungry.prior("eat meal", view, False) > 0 > hungry.prior("eat red apple", view, False)  # an ingredient
    into_box = GoalReader("Take the coin, and put it into the box.")
    assert into_box.destination("box") and into_box.prior("take box", view, True) == 0  # where, not what
    # Putting the named thing where the goal wants it pays; anywhere else undoes taking it.
    assert into_box.prior("put coin in box", view, True) > 0 > into_box.prior("put coin on table", view, True)


def test_a_told_step_is_not_charged_for_the_goals_guesses():
    # The goal says only "do what Simon says"; the list the game showed says to eat the pea. Eating a
    # thing only the plan names costs (a recipe's apple), but not when the plan's step is that command.
    agent = Ariadne(ScriptedChat(lambda messages, schema: "no json"))
    agent.reset(Task("simon", Path("unused"), goal="Your task is to do exactly what Simon says."))
    agent.plan = read_plan("Simon says, take these actions in order: examine pea, eat pea, touch tomato.")
    agent.plan.done[0] = True
    view = _view("You see a pea and a tomato.")
    result = StepResult("Correct!", "Correct!", ("eat pea", "take pea", "take tomato", "touch tomato"), 0, 1,
                        False, False, False, False, 0)
    ranked = sorted(agent._candidates(result, view), key=lambda c: -c.prior)
    assert ranked[0].command == "eat pea" and ranked[0].prior - ranked[1].prior >= agent.chooser.decisive_gap
    assert agent.goal.prior("eat pea", view, True) < 0  # the goal's own part, which the told step overrides


def test_a_thing_the_goal_wants_heated_goes_to_a_heat_source():
    view = _view("You see a counter and a stove. You are carrying a lettuce.")
    goal = GoalReader("The dinner is almost ready! It's only missing a grilled lettuce.")
    assert goal.prior("put lettuce on stove", view, True) > 0 > goal.prior("put lettuce on counter", view, True)
    assert goal.named_things(view) == ["lettuce"]  # the stove is where it goes, not a thing to take
    plain = GoalReader("The dinner is almost ready! It's only missing a lettuce.")
    assert plain.prior("put lettuce on stove", view, True) == plain.prior("put lettuce on counter", view, True)


def test_a_room_holding_where_a_carried_named_thing_goes_is_worth_walking_to():
    rooms = RoomMap.from_triples([("living room", "is south of", "kitchen")])
    where = {"stove": ("in", "kitchen"), "couch": ("in", "living room"), "box": ("in", "attic")}
    goal = GoalReader("It's only missing a grilled milk.")
    assert goal.wanted_rooms(WorldView("living room", dict(where), rooms=rooms)) == []  # nothing carried yet
    carrying = WorldView("living room", {**where, "milk": ("in", INVENTORY)}, rooms=rooms)
    assert goal.wanted_rooms(carrying) == ["kitchen"]
    with_bbq = WorldView("kitchen", {**carrying.location, "bbq": ("in", "living room")}, rooms=rooms)
    assert goal.wanted_rooms(with_bbq) == []  # a heat source is here: no need to walk to another
    assert GoalReader("It's only missing a milk.").wanted_rooms(carrying) == []  # no heat wanted
    assert GoalReader("Go to the kitchen.").wanted_rooms(carrying) == ["kitchen"]  # named, carried or not


def test_undo_and_loops_cost_and_a_state_revisited_through_a_command_costs_more():
    assert undoes("drop key", "take key") and undoes("close box", "open box") and not undoes("go west", "go east")
    guard = CycleGuard()
    for action, state in [("go east", "a"), ("go west", "b"), ("go east", "a")]:
        guard.arrive(state)
        guard.played(action)
    guard.arrive("b")
    assert guard.loops("go west")  # east, west, east, west
    assert guard.penalty("go west", last_changed=False) > guard.penalty("look", last_changed=False)
    repeated = CycleGuard()
    for _ in range(3):
        repeated.played("wait")
    assert repeated.loops("wait") and not repeated.loops("look")


def test_failures_are_remembered_and_a_refused_verb_is_learned():
    effects = EffectTracker()
    assert refused("Unknown action: I'm not sure what you mean.") and not refused("You take the coin.")
    arrived = ("-= Kitchenette =-\nYou are in a kitchenette.\n\nYou hear a noise behind you and spin around, but "
               "you can't see anything other than a chest.")
    assert not refused(arrived)  # a room shown: flavour text refuses nothing
    for _ in range(2):
        effects.record("go west", score_delta=0, moved_to=None, learned=[], other_changes=0,
                       response="Unknown action: I'm not sure what you mean.")
    assert "go west" in effects.failed and effects.unknown_verbs() == {"go"}
    effects.record("go west", score_delta=0, moved_to="hall", learned=[], other_changes=0, response="Hall")
    assert "go west" not in effects.failed and effects.unknown_verbs() == set()


def test_a_refusal_about_a_thing_that_moved_no_longer_speaks_against_its_verb():
    # A game that reads only what is held answers "unknown action" to reading the floor's note.
    effects = EffectTracker()
    unknown = "Unknown action: I'm not sure what you mean."
    effects.record("read math problem", score_delta=0, moved_to=None, learned=[], other_changes=0, response=unknown)
    effects.forget_failures("math problem")  # taken, then dropped again
    effects.record("read math problem", score_delta=0, moved_to=None, learned=[], other_changes=0, response=unknown)
    assert effects.unknown_verbs() == set()
    effects.record("read note", score_delta=0, moved_to=None, learned=[], other_changes=0, response=unknown)
    assert effects.unknown_verbs() == {"read"}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="TextWorldExpress needs Java (scripts/setup.sh)")
def test_memory_carries_an_instruction_list_the_game_shows_once():
    """Simon Says with memory (TALES protocol, no command list): the list is shown at the start
    only. Ariadne follows it from memory without a model call; with memory off it cannot."""
    results = {}
    for remember in (True, False):
        llm = ScriptedChat(lambda messages, schema: "no json")
        with TWXEnv("SimonSaysWithMemory10", split="train") as env:
            agent = Ariadne(llm, remember=remember)
            results[remember] = run_episode(env, agent, usage=llm.usage)
    assert results[True]["won"] and results[True]["steps"] == 10 and results[True]["llm_calls"] == 0
    assert results[True]["agent_stats"]["plan_steps"] == 9  # the tenth is seen done after the win
    assert results[False]["score"] < 100


def test_arithmetic_the_game_asks_for_names_the_quantity_to_take():
    assert answers("Solve the following math problem: divide 36 by 2 . Then, pick up the item") == ["18"]
    assert answers("subtract 4 from 10, or 3 times 7") == ["6", "21"] and answers("take 3 apples") == []
    view = _view("In one part of the room you see a sink that has 18 avocados, and 40 peas on it.")
    goal = GoalReader("Pick up the item with the same quantity as the answer, and place it in the box.")
    goal.instructed(None, ["18"])
    assert goal.prior("take 18 avocados", view, True) > 0 > goal.prior("take 40 peas", view, True)


def test_what_the_goal_names_follows_the_plan_and_the_numbers_it_is_read_from():
    goal = GoalReader("Cook a meal.")
    recipe = read_plan("Directions:\n  slice the red apple\n  prepare meal\n")
    goal.instructed(recipe)
    assert goal.names("red apple") and not goal.names("pea")
    recipe.played("slice red apple")  # progress on the same plan names the same things
    goal.instructed(recipe)
    assert goal.names("red apple")
    goal.instructed(read_plan("Simon says, 'touch pea'."))  # a new plan: its things only
    assert goal.names("pea") and not goal.names("red apple")
    goal.instructed(None, ["18"])
    assert not goal.names("pea") and goal.names("18 avocados")
    goal.instructed(None, ["18", "21"])
    assert goal.names("21 peas")


def test_an_order_over_quantities_picks_the_next_thing_with_units():
    goal = GoalReader("Sort objects by quantity. First, place the object with the smallest quantity in the box.")
    view = _view("In one part of the room you see a counter that has 4l of glass, 19ml of aluminum, and 3kg of "
                 "oak on it. There is also a box, that is empty.")
    assert quantity("19ml of aluminum") == pytest.approx(0.019) and goal.order() == 1
    assert goal.next_in_order(view) == "19ml of aluminum"
    assert goal.prior("take 19ml of aluminum", view, False, "19ml of aluminum") > 0
    assert goal.prior("take 4l of glass", view, False, "19ml of aluminum") < 0


def test_a_put_that_lost_out_of_turn_is_offered_again_when_the_order_wants_its_thing_next():
    goal = GoalReader("Sort objects by quantity. First, place the object with the smallest quantity in the box.")
    effects = EffectTracker()
    effects.record_loss("put 5l of rubber in box")  # played before the 30ml was known: the game restarted
    assert effects.judge("put 5l of rubber in box", 1.0, told=False)[1] == NEVER
    in_order = goal.moves_next("put 5l of rubber in box", "5l of rubber")  # the 30ml is in the box now
    assert in_order and not goal.moves_next("put 23l of rubber in box", "5l of rubber")
    assert effects.judge("put 5l of rubber in box", 1.0, told=False, in_order=in_order)[1] == OFFER
    assert effects.judge("eat 5l of rubber", 1.0, told=False, in_order=False)[1] == OFFER  # never lost


def test_a_thing_is_readable_by_its_head_word():
    assert readable("instructions book") and readable("note 2") and readable("math problem")
    assert not readable("book case") and not readable("coin")


def test_a_failure_about_a_thing_is_forgotten_when_the_thing_moves():
    effects = EffectTracker()
    effects.record("read math problem", score_delta=0, moved_to=None, learned=[], other_changes=0,
                   response="Unknown action: I'm not sure what you mean.")
    assert "read math problem" in effects.failed
    effects.forget_failures("math problem")  # taken since: reading may work now
    assert "read math problem" not in effects.failed and "read math problem" not in effects.useless()


KITCHEN = ("You are in the kitchen. In one part of the room you see a stove. There is also an oven. You also see "
           "a toaster. In another part of the room you see a fridge that is closed. In one part of the room you "
           "see a counter that has a knife, a red apple, and a cookbook on it.")


def test_a_steps_missing_prerequisites_come_first():
    view = _view(KITCHEN)
    assert step_work("take chicken wing", view, refused_before=True).commands == ("open fridge",)  # search
    assert step_work("take red apple", view, refused_before=False).commands == ("take red apple",)
    assert set(step_work("slice red apple", view, refused_before=False).commands) == {"take red apple", "take knife"}
    assert step_work("prepare meal", view, refused_before=True).commands == ("prepare meal",)
    held = _view(KITCHEN, "You take the red apple.", "You take the knife.")
    assert step_work("slice red apple", held, refused_before=False).commands == ("slice red apple",)
    assert step_work("roast red apple", held, refused_before=False).commands == ("roast red apple",)
    # The game refused "roast": cooking on a heat source in sight does the step, the one the verb
    # usually names first; a verb that names none of them leaves the chooser all of them.
    roast = step_work("roast red apple", held, refused_before=True)
    assert roast.commands == roast.realises == ("cook red apple in oven",)
    assert step_work("grill red apple", held, True).commands == ("cook red apple in toaster",)
    refused_there = step_work("grill red apple", held, True, failed={"cook red apple in toaster"})
    assert set(refused_there.commands) == {"cook red apple in stove", "cook red apple in oven"}  # the others, then
    warm = step_work("warm red apple", held, True)
    assert warm.commands == ("warm red apple",)  # not a heat verb: played as written
    assert set(HeatSources().for_verb("grill", ["stove", "oven"])) == {"stove", "oven"}
    # The game told what the oven does: it roasts, so grilling is done elsewhere and roasting there,
    # even where kitchen English would grill in the oven.
    heat = HeatSources()
    heat.heard("cook chicken wing in oven", "You roast the chicken wing with the oven.  -= Restarting =-")
    assert heat.by_verb == {"roast": "oven"}
    assert step_work("roast red apple", held, True, heat).commands == ("cook red apple in oven",)
    assert heat.for_verb("broil", ["oven", "stove"]) == ["stove"]
    heat.heard("cook red apple in toaster", "You fry the red apple with the toaster.")
    assert heat.for_verb("grill", ["stove", "oven", "toaster"]) == ["stove"]  # the only one left
    plan = read_plan("Ingredients:\n  red apple\n\nDirections:\n  roast the red apple\n  prepare meal\n")
    assert plan.played("cook red apple in oven", realises="roast red apple") and plan.wanted() == ["take red apple"]


def test_a_step_no_listed_command_does_is_read_as_without_a_list():
    agent = Ariadne(ScriptedChat(lambda messages, schema: "no json"))
    agent.reset(Task("listed", Path("unused"), goal="Cook a meal."))
    agent.plan = read_plan("Ingredients:\n  red apple\n\nDirections:\n  grill the red apple\n  prepare meal\n")
    held = _view(KITCHEN, "You take the red apple.", "You take the knife.")
    listed = ("cook red apple in oven", "cook red apple in stove", "cook red apple in toaster", "prepare meal")
    planned = agent._plan_commands(listed, set(), held)
    assert "cook red apple in toaster" in planned and "cook red apple in oven" not in planned  # grill: the toaster
    assert agent.realising["cook red apple in toaster"] == "grill red apple"
    assert "prepare meal" not in planned  # the list's last step waits for the others
    agent.plan.done[:2] = [True, True]  # the apple taken and grilled
    assert "prepare meal" in agent._plan_commands(listed, set(), held)  # a listed command doing a step is taken as it is


def test_a_restart_drops_where_things_were_and_keeps_the_map_and_what_was_learned():
    goal = "Score as many points as you can."
    agent = Ariadne(ScriptedChat(lambda messages, schema: "no json"))
    agent.reset(Task("restart", Path("unused"), goal=goal))

    def step(text: str) -> None:
        agent.act(StepResult(text, text, (), 0, 1, False, False, False, False, 0))

    step(f"{goal}\nYou are in the kitchen. In one part of the room you see a coin.")
    agent.plan = read_plan("Ingredients:\n  coin\n\nDirections:\n  examine the coin\n", source="read note")
    agent.override("take coin")
    step("You take the coin.")
    agent.override("go east")
    step("You are in the hall. In one part of the room you see a box.")
    agent.override("open box")
    step("You can't do that.")
    assert WorldView.read(agent.memory.current(), "hall").carries("coin")
    agent.override("go west")
    step(f"You are in the kitchen.\n\n-= Restarting =-\n{goal}\nYou are in the kitchen. In one part of the room "
         f"you see a coin.")
    view = WorldView.read(agent.memory.current(), "kitchen")
    assert not view.carries("coin") and view.location["coin"][1] == "kitchen"
    assert "hall" in view.rooms.exits.get("kitchen", {}).values()  # the map stays
    assert set(view.rooms.exits) == {"kitchen", "hall"}  # the restart marker is not a room
    assert "open box" in agent.effects.failed and agent.counts["restarts"] == 1  # so does what was refused
    assert agent.plan.wanted() == ["take coin"]  # the plan starts over with the game ("examine coin" ends it)
