"""Family modules: priors and checklists from what the memory holds (never the game's own state)."""
from graphmem_agents.families import VETO, family_for
from graphmem_agents.families.cleaning import CleaningFamily
from graphmem_agents.world import WorldView
from graphmem.llm import Scores
from scripted_llm import ScriptedChat


class Model(ScriptedChat):
    """Scores a receptacle by a table of where things belong (the model's common sense)."""

    def __init__(self, belongs):
        super().__init__(lambda messages, schema: "unused")
        self.belongs = belongs
        self.questions = []

    def _score(self, messages, options):
        thing = messages[-1]["content"].split("where does the ")[1].split(" belong")[0]
        self.questions.append(thing)
        return Scores([-0.1 if o.startswith(self.belongs.get(thing, "?")) else -3.0 for o in options],
                      [1] * len(options), 10)


def view_of(triples, room, explored=True):
    exits = [] if explored else [("hall", "has exit", "north")]
    return WorldView.read([type("T", (), {"subject": s, "relation": r, "object": o})()
                           for s, r, o in triples + exits + [("bath", "is west of", "hall"),
                                                             ("hall", "is east of", "bath")]], room)


HOUSE = [("toothbrush", "on", "dining table"), ("dining table", "in", "hall"), ("candles", "on", "dining table"),
         ("sink", "in", "bath"), ("soap", "on", "sink")]


def test_cleaning_takes_what_the_model_places_elsewhere_and_puts_it_there():
    model = Model({"toothbrush": "sink", "candles": "dining table"})
    family = family_for("Clean the house by returning items that are out of place", model, lambda t: None)
    assert isinstance(family, CleaningFamily)
    view = view_of(HOUSE, "hall")
    family.checklist(view)
    assert len(model.questions) == 2  # two things judged a step (one scoring call each)
    assert family.prior("take toothbrush from dining table", view) == 0.0  # not judged yet
    family.checklist(view)
    assert family.prior("take toothbrush from dining table", view) == 3.0
    assert family.prior("take candles from dining table", view) == -2.0  # where it belongs
    assert family.prior("eat candles", view) == VETO
    carrying = view_of([t for t in HOUSE if t[0] != "toothbrush"] + [("toothbrush", "in", "inventory")], "bath")
    assert family.prior("put toothbrush on sink", carrying) == 4.0
    assert family.prior("put toothbrush on dining table", carrying) == -1.0
    assert family.wanted_places(carrying) == ["bath"]
    assert family.prior("open sink", carrying) == 4.0  # a closed home is opened to put the thing away
    family.played("put toothbrush on sink")
    assert family.prior("take toothbrush from sink", view_of(HOUSE, "bath")) == -2.0  # never moved again
    assert model.questions.count("toothbrush") == 1  # one scoring call per thing while the house is unchanged


def test_cleaning_explores_the_house_before_moving_anything():
    family = CleaningFamily(Model({"toothbrush": "sink"}), lambda t: None)
    view = view_of(HOUSE, "hall", explored=False)
    assert family.checklist(view) == ["explore the whole house first"]
    assert family.prior("explore", view) > family.prior("take toothbrush from dining table", view)
    assert family.wanted_places(view) == []


def test_cooking_vetoes_what_loses_the_game():
    family = family_for("Prepare meal by following the recipe and eat it", Model({}), lambda t: None)
    recipe = [("recipe", "needs", "carrot"), ("carrot", "must be", "sliced"), ("carrot", "must be", "fried"),
              ("carrot", "in", "inventory"), ("knife", "in", "inventory"), ("stove", "in", "kitchen")]
    view = view_of(recipe, "kitchen")
    assert family.prior("eat carrot", view) == VETO
    assert family.prior("dice carrot with knife", view) == VETO       # the recipe says slice
    assert family.prior("slice carrot with knife", view) == 3.5
    assert family.prior("cook carrot with oven", view) == VETO        # roasting is not asked for
    assert family.prior("cook carrot with stove", view) == 3.5
    assert family.prior("prepare meal", view) == VETO                 # not ready yet
    done = view_of(recipe + [("carrot", "is", "sliced"), ("carrot", "is", "fried")], "kitchen")
    assert family.prior("cook carrot with stove", done) == VETO       # cooking twice burns it
    assert family.prior("prepare meal", done) == 5.0
    assert family.checklist(view)[:2] == ["slice carrot with knife", "cook carrot with stove (fry)"]
    # A cookbook that never says "recipe" (TextWorldExpress's) is read as "instructions": the same needs.
    untitled = [(("instructions" if s == "recipe" else s), r, o) for s, r, o in recipe]
    untitled_done = view_of(untitled + [("carrot", "is", "sliced"), ("carrot", "is", "fried")], "kitchen")
    assert family.needed(untitled_done) == ["carrot"] and family.prior("prepare meal", untitled_done) == 5.0
