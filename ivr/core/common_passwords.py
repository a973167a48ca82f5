"""A bundled list of the most common passwords and password stems, and the check that uses it.

Length alone lets `password1234` and twelve spaces through; the words below head every published
leak list (RockYou, the NCSC's top 100 000, SecLists), so a password built on one is guessed first.
Kept as data in the package: no network, no dependency.
"""

from __future__ import annotations

import re
import string

COMMON = frozenset("""
password passw0rd passwort motdepasse contrasena senha parola wachtwoord salasana haslo adgangskode
qwerty qwertyuiop qwertz azerty asdf asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx 1qaz2wsx zaq12wsx qweasd
abc abcd abcdef abcdefg abcdefgh letmein welcome admin administrator root toor login guest user test
tester testing default changeme secret private master hello hellothere iloveyou loveyou lovely love
trustno1 whatever freedom sunshine shadow dragon monkey football baseball basketball soccer hockey
superman batman spiderman starwars pokemon princess prince queen king killer ninja pirate
michael jennifer jordan hunter ranger harley thomas robert daniel andrew joshua matthew anthony
charlie donald jessica ashley amanda nicole michelle jessica daniel george maggie ginger summer winter
computer internet google facebook twitter instagram microsoft windows apple samsung iphone android
mustang ferrari porsche corvette yamaha ducati chelsea arsenal liverpool barcelona realmadrid
cheese cookie banana orange chocolate pepper coffee butterfly flower sunflower rainbow purple
access secure security letmein1 welcome1 password1 qwerty1 abc123 abcd1234 a1b2c3 aa123456
myspace mypass mypassword yourpassword nopassword blank empty nothing unknown anything something
tigger snoopy garfield scooby buster bailey daisy lucky angel angels baby babygirl sweety sweetheart
family friends forever happy smile peace jesus christ god heaven blessed faith church
office company business work worker manager support service helpdesk staff team
summer2023 summer2024 winter2024 spring autumn january february march april june july august
september october november december monday friday weekend holiday
fiji bula vinaka talanoa hotline talanoahotline suva nadi lautoka pacific island islands ocean
government ministry council agency official radio station dashboard operator
india delhi mumbai france paris london america canada australia newzealand
""".split())

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_EDGES = string.digits + string.punctuation + string.whitespace
_RUNS = ("abcdefghijklmnopqrstuvwxyz" * 2, "0123456789" * 3, "qwertyuiopasdfghjklzxcvbnm" * 2,
         "zyxwvutsrqponmlkjihgfedcba" * 2, "9876543210" * 3)


def weakness(password: str) -> str | None:
    """Say why a password is too easy to guess (None: not one of the usual guesses)."""
    lower = password.lower()
    if len(set(lower)) < 5:
        return "it uses fewer than 5 different characters"
    if any(lower in run for run in _RUNS):
        return "it is a run of neighbouring keys or letters"
    stems = {lower, lower.strip(_EDGES), lower.translate(_LEET), lower.translate(_LEET).strip(_EDGES),
             lower.strip(_EDGES).translate(_LEET)}
    for stem in list(stems):
        repeat = re.fullmatch(r"(.+?)\1+", stem)
        if repeat:
            stems.add(repeat.group(1))
    if stems & COMMON or not any(stems - {""}):
        return "it is one of the most common passwords, or one with digits or symbols added"
    return None
