"""Usage errors said the way a person needs them: what was meant (did you mean ...?), where
an option belongs, what to type instead. Imported only when the command line is wrong: the
entry stays small, and it starts before anything else can."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from snddiag.options import _common_options, build_parser


def _command_word(parser: argparse.ArgumentParser, args_list: Sequence[str]) -> int | None:
    """Where the command stands in args_list (the first word that is no option or its value)."""
    takes_value = {
        option
        for action in parser._actions
        if action.nargs != 0
        for option in action.option_strings
    }
    skip = False
    for index, word in enumerate(args_list):
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in takes_value
        else:
            return index
    return None


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _own_options(command: argparse.ArgumentParser) -> dict[str, bool]:
    """A command's own options (not the common ones, not --help): whether each takes a value."""
    shared = {o for a in _common_options(after_command=True)._actions for o in a.option_strings}
    return {
        option: action.nargs != 0
        for action in command._actions
        for option in action.option_strings
        if option not in shared and option not in ("-h", "--help")
    }


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    import difflib

    found = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{found[0]}'?)" if found else ""


def _unknown_option(
    parser: argparse.ArgumentParser, command: argparse.ArgumentParser | None, words: Sequence[str]
) -> str | None:
    """The first option no parser in play knows, with the closest one that exists."""
    known = {o for a in parser._actions for o in a.option_strings}
    if command is not None:
        known |= {o for a in command._actions for o in a.option_strings}
    for word in words:
        option = word.partition("=")[0]
        if option.startswith("-") and option != "-" and option not in known:
            return f"unknown option '{option}'" + _did_you_mean(option, sorted(known))
    return None


def usage_hint(args_list: Sequence[str]) -> str | None:
    """A clearer one-line message for the usage errors argparse words unhelpfully: a misspelt
    command, action or option (with the closest that exists), a collect option outside collect
    (`snddiag --output r.txt` is not `invalid choice: 'r.txt'`), `--play` with saved evidence,
    and `explain` without a rule id."""
    parser = build_parser()
    where = _command_word(parser, args_list)
    command = args_list[where] if where is not None else None
    commands = _choices(parser)
    if command == "help":
        return "there is no 'help' command: snddiag --help, or snddiag COMMAND --help"
    unknown = command is not None and command not in commands
    if unknown and _did_you_mean(str(command), list(commands)):
        return f"unknown command '{command}'{_did_you_mean(str(command), list(commands))}"
    after = args_list[where + 1 :] if where is not None else []
    if command is not None and "--play" in after:
        return (
            f"--play tests this machine's card (snddiag --play); {command} "
            + ("reads saved evidence and " if command == "analyze" else "")
            + "never plays"
        )
    if command == "explain" and not [w for w in after if not w.startswith("-")]:
        return "explain needs a rule id: snddiag rules list shows them"
    collect_only = _own_options(commands["collect"])
    outside = args_list if command != "collect" else args_list[:where]
    for index, word in enumerate(outside):
        option, _, value = word.partition("=")
        if option not in collect_only:
            continue
        if not collect_only[option]:  # a flag: shown with the output it goes with
            return f"{option} is an option of collect: snddiag collect -o FILE {option}"
        if not value and index + 1 < len(outside) and not outside[index + 1].startswith("-"):
            value = outside[index + 1]
        return f"{option} is an option of collect: snddiag collect {option} {value or 'FILE'}"
    if unknown:
        return f"unknown command '{command}' (commands: {', '.join(commands)})"
    sub = commands.get(command or "")
    if command == "rules" and sub is not None:
        actions = _choices(sub)
        action = next((w for w in after if not w.startswith("-")), None)
        if action is not None and action not in actions:
            close = _did_you_mean(action, list(actions))
            return f"unknown rules action '{action}'" + (
                close or f" (actions: {', '.join(actions)})"
            )
        sub = actions.get(action or "")
    return _unknown_option(parser, sub, args_list)
