"""Offline understanding of members' free-text questions (Spanish or English).

``understand(text)`` decides what a member wants (an objective, a table, how to register,
the meeting calendar, help, or nothing we know) and which GCM objectives / tables the
question is about.  It is pure and synchronous: everything is precomputed from
``handlers/data/knowledge.toml`` on first use, so a call is a few regex searches plus
dictionary look-ups (well under a millisecond for ordinary questions).

How topics are matched
----------------------
Each objective gets a bag of stems built from its keywords (weight 1.0 for single-word
keywords, 0.4 for words of a multi-word keyword), its weaker "context" words (x0.65), its
official titles (0.5), short lines (0.4) and summaries (0.25), in both languages.  A
question's stems score every objective with ``sum(idf(stem) * weight)``, where idf is
computed over the 23 objectives (document frequency weighted by field) so that distinctive
words ("remesas", "polleros") count more than shared ones ("derechos").
A multi-word keyword whose content words all occur in the question ("mandar plata a la
familia", "trabajo esclavo") adds a phrase bonus on top.  Words the index does not know
are mapped to a known word when they are a close typo (rapidfuzz) or share a long prefix.
Stems come from a small bilingual suffix stripper: the same function stems the keywords
and the questions, so it only has to be consistent, not linguistically exact.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import fuzz, process

from handlers.knowledge import Knowledge, fold, load_knowledge

__all__ = ["INTENTS", "Understanding", "detect_language", "understand"]

INTENTS = ("objective", "table", "register", "meetings", "help", "unknown")

#: Only the beginning of a message is analysed: questions are short, and this bounds the
#: work done on pasted documents.
_MAX_CHARS = 1200
_MAX_TOKENS = 160
_MAX_FUZZY_LOOKUPS = 12


@dataclass(frozen=True)
class Understanding:
    """What a member's message is about.

    ``intent`` is one of "objective", "table", "register", "meetings", "help", "unknown".
    ``objectives`` lists up to 3 objective numbers, best first.  ``tables`` lists table
    codes ("WT1".."WT4", "LT", "TT"), best first; for an objective question the table of
    the best objective comes first.  An "objective" or "table" intent with an empty tuple
    means the member asked for the whole list ("¿cuáles son las mesas?").
    ``confident`` is False when the bot should say it is unsure and offer the top 3.
    ``language`` is "es"/"en" when the text's language is clear, else None.
    """

    intent: str
    objectives: tuple[int, ...] = ()
    tables: tuple[str, ...] = ()
    confident: bool = False
    language: str | None = None


# --------------------------------------------------------------------------------------
# Text normalisation and stemming
# --------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[a-z0-9]+")

# Longest first; one suffix is removed if at least four letters remain.
_SUFFIXES = sorted(
    """
    amientos imientos aciones iciones uciones amiento imiento adoras adores ciones siones
    idades ilidad ations itions mente acion icion ucion ation ition ution ments ities ances
    ences adora ador ment ness ance ence idad ings ible able ismo ista ados idos adas idas
    aron ieron amos emos imos ando iendo aban arme arnos arse irme erme cion sion tion ado
    ido ada ida aba ing ity ies ied ers ed er es as os ar ir an en a o e s y
    """.split(),
    key=len,
    reverse=True,
)

# Words whose stem would collide with an unrelated word.
_STEM_EXCEPTIONS = {
    "trata": "trata",  # trafficking (noun); "trato", "tratamiento" stem to "trat"
    "tratas": "trata",
    "tratante": "tratante",
    "tratantes": "tratante",
}


@lru_cache(maxsize=8192)
def _stem(token: str) -> str:
    if token in _STEM_EXCEPTIONS:
        return _STEM_EXCEPTIONS[token]
    if len(token) <= 4 or token.isdigit():
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


# Function words of both languages plus words that appear in almost every question to
# this bot ("migrantes", "mesa", "objetivo") and so say nothing about the topic.
_STOPWORDS = frozenset(
    """
    a al algo algun alguna algunas alguno algunos ante antes aqui asi aun bien cada casi como
    con contra cual cuales cualquier cuando cuanto cuanta cuantos cuantas de del desde donde
    e el ella ellas ellos en entre era eran es esa esas ese eso esos esta estan estar estas
    este esto estos estoy fue fueron ha han hay haber hace hacen hacer hago hacemos hasta la
    las le les lo los mas me mi mis mucho muchos mucha muchas muy nada ni no nos nosotros
    nosotras nuestra nuestro nuestras nuestros o os otra otro otros otras para pero poco por
    porque pues que quien quienes se ser si sin sobre son soy su sus tambien te ti tiene
    tienen tengo tenemos pais paises todo todos toda todas tu tus un una uno unos unas usted
    ustedes va van vamos ver ve vez y ya yo puede pueden puedo podemos podria quiero queremos quisiera
    saber sabe decir dice dicen digo etc tema temas asunto asuntos cosa cosas objetivo
    objetivos obj mesa mesas mecanismo pacto gcm pmm migracion migraciones migrante migrantes
    migrar migratorio migratoria migratorios migratorias inmigrantes emigrantes persona
    personas gente cubre cubren ocupa ocupan encarga encargan aborda abordan maneja manejan
    lleva llevan habla hablan hablar corresponde corresponden entra entramos encaja encajamos
    pertenece pertenecemos cae caemos caen buena bueno buenas buenos gracias hola favor porfa
    tardes noches dias dia morning afternoon evening ayuda ayudar ayudan ayudame apoyo apoyar
    explicame explica cuentame dime
    estoy estamos trabajamos trabaja trabajan somos organizacion organizaciones ong ongs
    fundacion colectivo asociacion lugar caso tipo forma manera parte nivel
    the of and to in is are was were be been being am i you he she it we they me him her us
    them my your his its our their this that these those there here what which who whom
    whose when where why how do does did doing done have has had having can could would
    should will shall may might must not no nor or but if then than so too very just also
    any some all each every both few more most other such own same only about above after
    again against at before below between by down during for from into of off on once out
    over through under until up with within without as an a per via like unlike whether
    get gets got getting make makes made give gives gave go goes going tell want wants
    need needs please thanks thank hi hello hey ok okay yes objective objectives goal goals
    don didn doesn isn aren wasn weren haven hasn wouldn couldn shouldn ll re ve
    table tables topic topics issue issues theme themes subject question questions
    gcm compact migrant migrants migration migrations immigrant immigrants immigration
    emigrant emigrants migratory people person persons country countries cover covers
    covering deal deals dealing handle handles handling address addresses fit fits belong
    belongs ngo ngos organization organizations organisation organisations group groups
    help helps support supports explain mean means related relating regarding concerning
    thing things something anything stuff kind sort lot lots many much one
    """.split()
) | frozenset(
    # Places and nationalities name where, not what: they must not pull a topic through
    # typo or prefix matching ("Central Americans" is not "information centre").
    """
    venezuela venezolano venezolana venezolanos venezolanas venezuelan venezuelans colombia
    colombiano colombiana colombianos colombianas colombian colombians peru peruano peruana
    peruanos peruanas peruvian peruvians chile chileno chilena chilenos chilean chileans
    mexico mexicano mexicana mexicanos mexicanas mexican mexicans honduras hondureno
    hondurena hondurenos honduran hondurans guatemala guatemalteco guatemaltecos guatemalan
    guatemalans salvador salvadoreno salvadorenos salvadoran salvadorans nicaragua
    nicaraguense nicaraguenses nicaraguan nicaraguans haiti haitiano haitiana haitianos
    haitianas haitian haitians cuba cubano cubanos cuban cubans ecuador ecuatoriano
    ecuatorianos ecuadorian ecuadorians bolivia boliviano bolivianos bolivian bolivians
    argentina argentino argentinos argentine argentinian brasil brazil brasileno brasilenos
    brazilian brazilians panama panameno panamenos costa rica dominicana dominicano
    dominicanos dominican paraguay uruguay canada espana spain europa europe usa eeuu
    estados unidos united states us america americas american americans latinoamerica
    latin centroamerica centroamericano centroamericanos central caribe caribbean
    sudamerica suramerica south north norte sur lima santiago bogota caracas cucuta
    tapachula tijuana miami
    """.split()
)

# "¿qué mesa trabaja el tema de...?", "who works on...", "mesa de trabajo": the verb "work"
# here is part of the question, not the topic (decent work is objective 6).
_QUESTION_FRAMES = re.compile(
    r"\b(?:mesas?\s+de\s+trabajo|working\s+tables?|work(?:s|ing)?\s+(?:on|with|in)|"
    r"trabaj(?:a|an|amos|e|en)\s+(?:en|sobre|con|el|la|los|las|de|temas?)|grupos?\s+de\s+trabajo|"
    r"(?:quiero|quisiera|necesito|dame|busco|pido|hay|mas|tienes|tiene)\s+(?:mas\s+)?"
    r"info(?:rmacion)?\s+(?:sobre|de|acerca|del|respecto)|"
    r"(?:want|need|more|some|any|get|give\s+me|send\s+me|have)\s+(?:more\s+)?"
    r"info(?:rmation)?\s+(?:about|on|regarding))\b"
)

# Spanish "trata" is both "trafficking" (la trata, víctimas de trata) and "deals with"
# (¿qué objetivo trata...?).  In this bot's domain the noun is the default; it is the verb
# right after the question's subject, unless "de personas", "sexual"... follows.
_TRATA_VERB_BEFORE = frozenset(
    "objetivo objetivos mesa mesas que se cual cuales quien esto eso tambien solo".split()
)
_TRATA_NOUN_AFTER = frozenset("personas blancas mujeres ninos ninas laboral sexual".split())


def _is_trata_verb(tokens: list[str], i: int) -> bool:
    if tokens[i] == "tratan":  # "nos tratan mal": always the verb
        return True
    if any(t in _TRATA_NOUN_AFTER for t in tokens[i + 1 : i + 3]):
        return False
    before = tokens[i - 1] if i else ""
    return before in _TRATA_VERB_BEFORE or before.isdigit()


# "how many migrants", "cuántos venezolanos hay": a question about numbers (objective 1),
# although every single word of it is a stopword.
_HEADCOUNT = re.compile(
    r"\b(?:how\s+many|cuant[oa]s)\s+(?:\w+\s+){0,2}?(?:migrants?|immigrants?|migrantes|"
    r"inmigrantes|extranjeros|foreigners|refugiad\w*|refugees|people|personas|desplazad\w*|"
    r"displaced|retornad\w*|returnees|deportad\w*|venezolan\w*|haitian\w*|colombian\w*)\b"
)


def _tokens(folded: str) -> list[str]:
    return _TOKEN_RE.findall(_HEADCOUNT.sub(" headcount ", folded))[:_MAX_TOKENS]


def _content_stems(tokens: list[str]) -> list[str]:
    """Stems of the topic-bearing words of a question, in order, without duplicates."""
    stems: list[str] = []
    for i, token in enumerate(tokens):
        if token in ("trata", "tratan", "tratas"):
            if _is_trata_verb(tokens, i):
                continue
            token = "trata"
        if token in _STOPWORDS or token.isdigit() or len(token) < 2:
            continue
        stem = _stem(token)
        if stem not in stems:
            stems.append(stem)
    return stems


# --------------------------------------------------------------------------------------
# Index
# --------------------------------------------------------------------------------------

_W_KEYWORD = 1.0
_W_CONTEXT = 0.65
_W_PHRASE_WORD = 0.4
_W_TITLE = 0.5
_W_SHORT = 0.4
_W_SUMMARY = 0.25
_PHRASE_BONUS = 0.8
_FUZZY_FACTOR = 0.8
_PREFIX_FACTOR = 0.7


@dataclass(frozen=True)
class _Phrase:
    objective: int
    stems: frozenset[str]
    weight: float  # bonus when all stems are present


@dataclass(frozen=True)
class _Index:
    weights: dict[str, dict[int, float]]  # stem -> objective -> idf * field weight
    phrases_by_stem: dict[str, tuple[_Phrase, ...]]
    by_initial: dict[str, tuple[str, ...]]  # folded surface words by first letter, for typos
    word_stem: dict[str, str]
    stems_sorted: tuple[str, ...]
    table_of: dict[int, str]
    table_names: tuple[tuple[re.Pattern[str], str], ...]  # "mesa de inclusión" -> WT3
    es_words: frozenset[str]
    en_words: frozenset[str]


def _phrase_stems(text: str) -> list[str]:
    return _content_stems(_tokens(fold(text)))


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One regex matching any of the phrases in folded text, tolerant of spacing."""
    alternatives = sorted({r"\s+".join(map(re.escape, _tokens(fold(p)))) for p in phrases}, key=len)
    return re.compile(r"\b(?:" + "|".join(reversed(alternatives)) + r")\b")


@cache
def _index() -> _Index:
    knowledge: Knowledge = load_knowledge()
    field: dict[int, dict[str, float]] = {n: {} for n in knowledge.objectives}
    phrases: list[tuple[int, tuple[str, ...], float]] = []
    words: set[str] = set()
    es_words: set[str] = set()
    en_words: set[str] = set()

    def add(number: int, stems: Iterable[str], weight: float) -> None:
        bag = field[number]
        for stem in stems:
            bag[stem] = max(bag.get(stem, 0.0), weight)

    for number, obj in knowledge.objectives.items():
        for lang, lang_words in (("en", en_words), ("es", es_words)):
            texts = [*obj.keywords(lang), *obj.context(lang), obj.title(lang), obj.short(lang)]
            texts.append(obj.summary(lang))
            for text in texts:
                tokens = _tokens(fold(text))
                lang_words.update(t for t in tokens if t not in _STOPWORDS)
                words.update(t for t in tokens if t not in _STOPWORDS and len(t) >= 4)
            for keyword, weight in [
                *((k, _W_KEYWORD) for k in obj.keywords(lang)),
                *((k, _W_CONTEXT) for k in obj.context(lang)),
            ]:
                stems = _phrase_stems(keyword)
                if len(stems) == 1:
                    add(number, stems, weight)
                elif stems:
                    add(number, stems, _W_PHRASE_WORD * weight)
                    phrases.append((number, tuple(stems), weight))
            add(number, _phrase_stems(obj.title(lang)), _W_TITLE)
            add(number, _phrase_stems(obj.short(lang)), _W_SHORT)
            add(number, _phrase_stems(obj.summary(lang)), _W_SUMMARY)

    # Document frequency weighted by field: a word that is a keyword of one objective and
    # merely occurs in two other summaries is still distinctive.
    total = len(field)
    df: dict[str, float] = defaultdict(float)
    for bag in field.values():
        for stem, weight in bag.items():
            df[stem] += weight
    idf = {stem: math.log(1 + total / max(1.0, count)) for stem, count in df.items()}

    weights: dict[str, dict[int, float]] = defaultdict(dict)
    for number, bag in field.items():
        for stem, weight in bag.items():
            weights[stem][number] = idf[stem] * weight

    by_stem: dict[str, list[_Phrase]] = defaultdict(list)
    seen: set[tuple[int, frozenset[str]]] = set()
    for number, stems, weight in sorted(phrases, key=lambda p: -p[2]):
        key = (number, frozenset(stems))
        if key in seen:
            continue
        seen.add(key)
        phrase = _Phrase(number, key[1], _PHRASE_BONUS * weight * sum(idf[s] for s in stems))
        for stem in key[1]:
            by_stem[stem].append(phrase)

    return _Index(
        weights=dict(weights),
        phrases_by_stem={stem: tuple(p) for stem, p in by_stem.items()},
        by_initial={
            initial: tuple(sorted(w for w in words if w[0] == initial))
            for initial in {w[0] for w in words}
        },
        word_stem={w: _stem(w) for w in words},
        stems_sorted=tuple(sorted(weights)),
        table_of={n: o.table for n, o in knowledge.objectives.items()},
        table_names=tuple(
            (_phrase_pattern([*table.keywords("en"), *table.keywords("es")]), code)
            for code, table in knowledge.tables.items()
            if table.keywords_en or table.keywords_es
        ),
        es_words=frozenset(es_words - en_words),
        en_words=frozenset(en_words - es_words),
    )


@lru_cache(maxsize=4096)
def _resolve_unknown(token: str) -> tuple[str, float] | None:
    """Map a word the index does not know to a known stem: typo first, then shared prefix."""
    index = _index()
    if len(token) >= 6:
        # Typos rarely touch the first letter; requiring it avoids "cuesta" -> "encuesta".
        candidates = index.by_initial.get(token[0], ())
        cutoff = 85.0 if len(token) >= 8 else 90.0  # short words: one insertion/deletion only
        found = process.extractOne(token, candidates, scorer=fuzz.ratio, score_cutoff=cutoff)
        if found is not None and abs(len(found[0]) - len(token)) <= 2:
            return index.word_stem[found[0]], _FUZZY_FACTOR
    stem = _stem(token)
    if len(stem) < 5:
        return None
    # A known stem that the word's stem extends ("regulariz" -> "regular") ...
    for cut in range(len(stem) - 1, max(4, len(stem) - 4), -1):
        if stem[:cut] in index.weights:
            return stem[:cut], _PREFIX_FACTOR
    # ... or that extends it ("trafic" -> "traficant"), found by bisection.
    stems = index.stems_sorted
    position = bisect.bisect_left(stems, stem)
    if position < len(stems):
        candidate = stems[position]
        if candidate.startswith(stem) and len(candidate) - len(stem) <= 3:
            return candidate, _PREFIX_FACTOR
    return None


def _score(stems: list[str], surface: dict[str, str]) -> dict[int, float]:
    """Objective -> relevance of the question's content stems."""
    index = _index()
    scores: dict[int, float] = defaultdict(float)
    present: set[str] = set()
    lookups = 0
    for stem in stems:
        factor = 1.0
        if stem not in index.weights:
            if lookups >= _MAX_FUZZY_LOOKUPS:
                continue
            lookups += 1
            resolved = _resolve_unknown(surface[stem])
            if resolved is None:
                continue
            stem, factor = resolved
            if stem in present:
                continue
        present.add(stem)
        for number, weight in index.weights[stem].items():
            scores[number] += weight * factor
    checked: set[_Phrase] = set()
    for stem in present:
        for phrase in index.phrases_by_stem.get(stem, ()):
            if phrase not in checked:
                checked.add(phrase)
                if phrase.stems <= present:
                    scores[phrase.objective] += phrase.weight
    return scores


# --------------------------------------------------------------------------------------
# Explicit references: objective numbers and tables
# --------------------------------------------------------------------------------------

_SEP = r"\s*(?:,|;|/|&|\by\b|\be\b|\band\b|\bo\b|\bor\b)\s*"
_OBJECTIVE_NUMBER = re.compile(
    r"\b(?:objetivos?|objectives?|objs?|goals?)\b\.?\s*"
    r"(?:(?:n|no|nro|num|numero|number|nr)\b\.?\s*)?"
    rf"#?\s*(\d{{1,2}})\b((?:{_SEP}#?\d{{1,2}}\b)*)"
)
_HASH_NUMBER = re.compile(r"(?<![\w#])#\s?(\d{1,2})\b")
_SDG = re.compile(r"\b(?:ods|sdg|sdgs|meta|target|ley|law|articulo|article|art)\s*\.?\s*\d")
_ARITHMETIC = re.compile(r"\d\s*[-+*/x=^]\s*\d")
_NUMBER = re.compile(r"(?<![\d.,])\b(\d{1,2})\b(?![.,]\d)")

_TABLE_WORD = (
    r"(?:working\s+tables?|round\s+tables?|mesas?\s+de\s+trabajo|mesas?|tables?|tablas?|"
    r"grupos?\s+de\s+trabajo|wt|mt|rt|mdt)"
)
_NUM = r"(?:[1-4]|one|two|three|four|uno|dos|tres|cuatro|iv|iii|ii)"
_WORD_NUMBERS = {
    "one": "1", "uno": "1", "first": "1", "primera": "1", "primer": "1",
    "two": "2", "dos": "2", "ii": "2", "second": "2", "segunda": "2",
    "three": "3", "tres": "3", "iii": "3", "third": "3", "tercera": "3",
    "four": "4", "cuatro": "4", "iv": "4", "fourth": "4", "cuarta": "4",
}  # fmt: skip
_TABLE_NUMBERS = re.compile(
    rf"\b{_TABLE_WORD}\s*(?:n[or]?\.?\s*|num(?:ero)?\.?\s*|number\s*|#\s*|-\s*)?({_NUM})\b"
    rf"((?:{_SEP}{_NUM}\b)*)"
)
_TABLE_ORDINAL = re.compile(
    rf"\b(first|second|third|fourth|primera|primer|segunda|tercera|cuarta)\s+{_TABLE_WORD}\b"
)
_LIAISON = re.compile(
    r"\b(?:liaison|mesas?\s+de\s+enlace|enlace\s+table|lt|coordination\s+table|"
    r"mesa\s+de\s+coordinacion|mesa\s+coordinadora)\b"
)
_TECHNICAL = re.compile(r"\b(?:technical\s+tables?|mesas?\s+tecnicas?|tt)\b")
_ANY_TABLE_WORD = re.compile(r"\b(?:mesas?|tables?|tablas?|wt|mt)\b")


def _table_mentions(folded: str) -> tuple[list[str], str]:
    """Codes of the tables named in the text, in order, and the text with those names blanked.

    Blanking keeps a table's own name ("la mesa de datos") from also counting as a topic.
    """
    found: list[tuple[int, int, str]] = []
    for match in _TABLE_NUMBERS.finditer(folded):
        for number in re.findall(rf"\b{_NUM}\b", match.group(1) + " " + match.group(2)):
            found.append((match.start(), match.end(), "WT" + _WORD_NUMBERS.get(number, number)))
    for match in _TABLE_ORDINAL.finditer(folded):
        found.append((match.start(), match.end(), "WT" + _WORD_NUMBERS[match.group(1)]))
    patterns = [(_LIAISON, "LT"), (_TECHNICAL, "TT"), *_index().table_names]
    for pattern, code in patterns:
        found += [(m.start(), m.end(), code) for m in pattern.finditer(folded)]
    codes: list[str] = []
    blanked = list(folded)
    for start, end, code in sorted(found):
        blanked[start:end] = " " * (end - start)
        if code not in codes:
            codes.append(code)
    return codes, "".join(blanked)


_SPELLED_NUMBERS = dict(
    zip(
        (
            "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen twenty"
        ).split()
        + (
            "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
            "dieciseis diecisiete dieciocho diecinueve veinte veintiuno veintidos veintitres"
        ).split(),
        [str(n) for n in range(1, 21)] + [str(n) for n in range(1, 24)],
    )
)
_SPELLED_OBJECTIVE = re.compile(
    r"\b(?:objetivos?|objectives?|goals?)\s+(?:n(?:umero|o|umber)\s+)?("
    + "|".join(sorted(_SPELLED_NUMBERS, key=len, reverse=True))
    + r")\b(?:\s*-?\s*(one|two|three))?"
)


# "los 23 objetivos", "the 4 tables": a count, not a reference to objective 23 or 4.
_COUNT = re.compile(r"\b\d{1,2}\s+(?:objetivos|objectives|goals|mesas|tables)\b")


def _objective_numbers(folded: str, content: list[str]) -> list[int]:
    folded = _COUNT.sub(" ", folded)
    numbers: list[str] = []
    for match in _SPELLED_OBJECTIVE.finditer(folded):
        value = int(_SPELLED_NUMBERS[match.group(1)])
        if match.group(2) and value == 20:  # "twenty-two"
            value += int(_SPELLED_NUMBERS[match.group(2)])
        numbers.append(str(value))
    for match in _OBJECTIVE_NUMBER.finditer(folded):
        numbers.append(match.group(1))
        numbers += re.findall(r"\d{1,2}", match.group(2))
    if not numbers:
        numbers = _HASH_NUMBER.findall(folded)
    if not numbers and not content and not _SDG.search(folded) and not _ARITHMETIC.search(folded):
        # "¿de qué va el 12?", "12": a lone number is an objective, unless a table is named.
        lone = _NUMBER.findall(folded)
        if len(lone) == 1 and not _ANY_TABLE_WORD.search(folded):
            numbers = lone
    result: list[int] = []
    for raw in numbers:
        value = int(raw)
        if value not in result:
            result.append(value)
    return result


# --------------------------------------------------------------------------------------
# Intent cues
# --------------------------------------------------------------------------------------

# Unambiguous requests to register ("inscribirnos", "sign up", "membership").
_REGISTER = re.compile(
    r"\b(?:inscrib\w*|inscripcion\w*|registr(?:ar|arme|arnos|arse|ate|ense|emos|arlas?|arlos?)|"
    r"registr\w*\s+(?:a\s+)?(?:mi|mis|nuestra|nuestro|nuestras|la|una|our|my|an?)\s+"
    r"(?:organizacion|ong|fundacion|asociacion|colectivo|red|institucion|grupo|entidad|"
    r"organi[sz]ation|ngo|group|network|association|foundation|collective)\w*|"
    r"register|registering|registration|sign(?:ing)?\s+(?:\w+\s+){0,3}?up|signup|"
    r"become\s+(?:a\s+)?members?|membership|membresia|ser\s+miembros?|hacer(?:me|nos)\s+miembros?|"
    r"enrol(?:l)?\s+(?:my|our)\s+(?:organi[sz]ation|ngo))\b"
)
# Verbs that mean joining something, which may be the Mechanism or anything else ("unirme
# a la lucha contra la trata"); they count when the question names no topic or names the
# Mechanism or a table.
_REGISTER_WEAK = re.compile(
    r"\b(?:join|joining|joined|unir(?:me|nos|se|te)|nos\s+unimos|me\s+uno|sumar(?:me|nos|se)|"
    r"nos\s+sumamos|afiliar\w*|afiliacion|formar\s+parte|forme(?:mos)?\s+parte|ser\s+parte|"
    r"be\s+(?:a\s+)?part\s+of|take\s+part\s+in|participate\s+in|"
    r"(?:how|where)\s+(?:can|do|could|should)\s+(?:we|i)\s+"
    r"(?:participate|take\s+part|get\s+involved|apply)|"
    r"como\s+(?:puedo|podemos|se\s+puede)\s+participar|quiero\s+participar|queremos\s+participar|"
    r"postular\w*|adherir\w*|ingresar)\b"
)
_MECHANISM = re.compile(
    r"\b(?:mecanismo|mechanism|mesas?|tables?|wt\s*\d|mt\s*\d|plataforma|platform|espacio|"
    r"dialogo|dialogue|members?|miembros?)\b"
)
_REGISTER_BLOCK = re.compile(
    r"\b(?:birth|births|civil|nacimiento|nacimientos|bebes?|baby|babies|newborns?|"
    r"recien\s+nacid\w*|partidas?|actas?|consular|escuela|colegio|school|hijos?)\b"
)
_MEETINGS = re.compile(
    r"\b(?:meet|meets|meeting|meetings|reunion|reuniones|reune|reunen|reunimos|reunirse|"
    r"reunira|reuniran|reunirnos|sesion|sesiones|session|sessions|calendario|calendar|"
    r"schedule|scheduled|cronograma|pledges?|compromisos?|remind\w*|recordatorios?|recuerdame|"
    r"avisame|convocatoria|quarterly|trimestral\w*|cada\s+cuanto|how\s+often|"
    r"next\s+call|proxima\s+llamada|cuando\s+(?:toca|nos\s+vemos|se\s+ven|es\s+la\s+proxima)|"
    r"regional\s+review|revision\s+regional|examen\s+regional|foro|forum|imrf)\b"
)
_HELP = re.compile(
    r"^\W*(?:hola|holi|hi|hello|hey|buenas|buenos\s+dias|buen\s+dia|buenas\s+tardes|"
    r"buenas\s+noches|good\s+(?:morning|afternoon|evening)|saludos|que\s+tal|start|help|"
    r"ayuda|menu|ayudame|gracias|muchas\s+gracias|thanks|thank\s+you)\b|"
    r"\b(?:what\s+is\s+(?:the\s+)?(?:gcm|global\s+compact|mechanism)|"
    r"que\s+es\s+(?:el\s+)?(?:gcm|pacto|pmm|mecanismo))\b|"
    r"\b(?:que\s+(?:puedes|sabes|podes)\s+hacer|que\s+haces|what\s+(?:can|do)\s+you\s+do|"
    r"como\s+funciona\w*|how\s+(?:does|do)\s+(?:this|it|you)\s+(?:bot\s+)?work|"
    r"how\s+(?:do|can)\s+i\s+use|como\s+(?:te\s+)?uso|como\s+se\s+usa|para\s+que\s+sirve\w*|"
    r"comandos?|commands?|instrucciones|instructions|quien\s+eres|who\s+are\s+you|"
    r"what\s+are\s+you|me\s+ayudas|can\s+you\s+help|help\s+me|ayuda|help|menu|usage|"
    r"options|opciones|bot|chatbot|what\s+is\s+this|que\s+es\s+esto)\b"
)
_WHICH_TABLE = re.compile(
    r"\b(?:(?:que|cual|which|what|en\s+que|a\s+que)\s+(?:mesa|table|working\s+table|wt)|"
    r"where\s+do\s+we\s+(?:fit|belong)|donde\s+(?:encaja\w*|entra\w*|cae\w*))\b"
)
_TABLE_LIST = re.compile(
    r"\b(?:mesas|tables|estructura|structure|arquitectura|architecture|organi[sz]ed|organizado|"
    r"prioridades|priorities|plan\s+de\s+trabajo|work\s*plan)\b"
)
_OBJECTIVE_LIST = re.compile(r"\b(?:objetivos|objectives|goals|23)\b")

# Relevance thresholds, in idf units (one distinctive keyword is worth about 3).
_TOPIC_MIN = 1.8  # below: no topic at all
_TOPIC_CONFIDENT = 2.4
_TOPIC_MARGIN = 1.25  # best must beat the runner-up by this factor to be confident
_TOPIC_OVER_TABLE = 3.0  # a named table plus a topic this strong is a topic question
_SECONDARY = 0.35  # alternatives kept if they reach this fraction of the best score


# --------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------

_ES_FUNCTION = frozenset(
    """
    de la que el en los se del las por un para con una su al es lo como mas pero sus le ya
    este porque esta entre cuando muy sin sobre tambien hasta hay donde quien desde todo nos
    durante todos uno les ni contra otros ese eso ante ellos esto mi antes algunos unos yo
    otro otras otra tanto esa estos mucho quienes nada muchos cual poco ella estar estas
    algunas algo nosotros mis tu te ti tus ellas nosotras mesa mesas objetivo objetivos
    migrantes migrante migracion migraciones personas gente
    hola cuales reunion ayuda puedes quiero queremos tengo tiene somos soy son mio hacer
    hace cuanto cuantos cuantas nuestra nuestro nuestras nuestros organizacion buenas buenos
    dias tardes noches gracias menu usted ustedes pais trabajo
    """.split()
)
_EN_FUNCTION = frozenset(
    """
    the of and to in is you that it he was for on are as with his they at be this have from
    or had by but not what all were we when your can said there use an each which she do
    how their if will up other about out many then them these so some her would make like
    him into time has look two more go see way could people my than first been who its now
    find down day did get come made may our us does where table tables objective objectives
    hello hi help meeting join tell please thanks morning afternoon evening work i
    migrants migrant country
    """.split()
)
_SPANISH_MARKS = re.compile(r"[ñ¿¡áéíóú]")


def _language(folded_tokens: list[str], raw: str) -> str | None:
    index = _index()
    es = en = 0.0
    for token in folded_tokens:
        if token in _ES_FUNCTION:
            es += 1.0
        elif token in _EN_FUNCTION:
            en += 1.0
        elif token in index.es_words:
            es += 0.6
        elif token in index.en_words:
            en += 0.6
    es += 0.8 * min(3, len(_SPANISH_MARKS.findall(raw.lower())))
    if es > en and es >= 0.6:
        return "es"
    if en > es and en >= 0.6:
        return "en"
    return None


def detect_language(text: str) -> str | None:
    """"es" or "en" when the text is clearly in one of them, else None (never raises)."""
    if not isinstance(text, str):
        return None
    raw = text[:_MAX_CHARS]
    return _language(_tokens(fold(raw)), raw)


# --------------------------------------------------------------------------------------
# Understanding
# --------------------------------------------------------------------------------------


def _ranked(scores: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _tables_for(objectives: Iterable[int]) -> tuple[str, ...]:
    table_of = _index().table_of
    tables: list[str] = []
    for number in objectives:
        code = table_of.get(number)
        if code and code not in tables:
            tables.append(code)
    return tuple(tables)


def understand(text: str) -> Understanding:
    """Classify a member's message; never raises on any ``str`` (or other) input."""
    try:
        return _understand(text if isinstance(text, str) else "")
    except Exception:  # noqa: BLE001 - a chat bot must answer something, whatever the input
        return Understanding("unknown")


def _understand(text: str) -> Understanding:
    raw = text[:_MAX_CHARS]
    folded = fold(raw)
    tokens = _tokens(folded)
    language = _language(tokens, raw)
    if not tokens:
        return Understanding("unknown", language=language)

    tables, unnamed = _table_mentions(folded)
    frame_tokens = _tokens(_QUESTION_FRAMES.sub(" ", unnamed))
    stems = _content_stems(frame_tokens)
    surface: dict[str, str] = {}  # stem -> the word it came from, for typo matching
    for token in frame_tokens:
        surface.setdefault(_stem(token), token)
    ranked = _ranked(_score(stems, surface))
    best = ranked[0][1] if ranked else 0.0
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    top = tuple(n for n, s in ranked[:3] if s >= max(_TOPIC_MIN, _SECONDARY * best))
    topic_confident = best >= _TOPIC_CONFIDENT and best >= _TOPIC_MARGIN * second
    has_topic = best >= _TOPIC_MIN

    asked = _objective_numbers(folded, stems)
    numbers = [n for n in asked if 1 <= n <= 23]

    def topic_result(intent: str) -> Understanding:
        objectives = tuple(numbers) or (top if topic_confident else ())
        return Understanding(
            intent,
            objectives=objectives,
            tables=tuple(dict.fromkeys([*tables, *_tables_for(objectives)])),
            confident=True,
            language=language,
        )

    which_table = bool(_WHICH_TABLE.search(folded))
    wants_in = bool(_REGISTER.search(folded)) or bool(
        _REGISTER_WEAK.search(folded) and (not topic_confident or _MECHANISM.search(folded))
    )
    if wants_in and not _REGISTER_BLOCK.search(folded):
        if not (which_table and topic_confident and not tables):
            return topic_result("register")
    if _MEETINGS.search(folded):
        return topic_result("meetings")

    if asked:
        return Understanding(
            "objective",
            objectives=tuple(numbers),
            tables=_tables_for(numbers),
            confident=bool(numbers),
            language=language,
        )
    thematic = not set(tables) & {"LT", "TT"}
    if tables and not (thematic and has_topic and best >= _TOPIC_OVER_TABLE):
        return Understanding("table", tables=tuple(tables), confident=True, language=language)
    if has_topic and (topic_confident or not _HELP.search(folded)):
        return Understanding(
            "objective",
            objectives=top,
            tables=_tables_for(top),
            confident=topic_confident,
            language=language,
        )
    if _HELP.search(folded):
        return Understanding("help", confident=True, language=language)
    if _TABLE_LIST.search(folded):
        return Understanding("table", confident=True, language=language)
    if _OBJECTIVE_LIST.search(folded):
        return Understanding("objective", confident=True, language=language)
    return Understanding("unknown", language=language)
