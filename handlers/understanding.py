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
familia", "trabajo esclavo") adds a phrase bonus on top; when the keyword holds a
negation or "país" ("no hay comida", "dejar su país"), the question must hold one too.
Words the index does not know are mapped to a known word when they are a close typo
(rapidfuzz) or share a long prefix.  Stems come from a small bilingual suffix stripper:
the same function stems the keywords and the questions, so it only has to be consistent,
not linguistically exact.

Members write on phones, in regional Spanish, English and some Portuguese, so before
matching: chat shorthand is spelt out ("q", "xq", "pls", "ppl"), regional slang maps to
one word on both sides ("lana", "pisto", "guita" -> "dinero"; "chamba", "laburo" ->
"trabajo"), unknown Portuguese spellings are tried as Spanish ("remessas", "integração"),
a few ideas made only of common words become one cue token ("¿cuántos nicas han
llegado?", "no saben a dónde ir", "¿por qué se van?", "no sé nada de mi hermano", "lo
mandaron de vuelta", "por ser venezolana"), runs of a repeated letter shrink ("ayudaaa")
and misspelt intent words are corrected ("metting", "regsiter").  When a member first
says who they are ("soy periodista en Quito, ..."), the rest of the message decides the
topic if it has one.

How intents are decided
-----------------------
Register, meetings and help are recognised by cue phrases; strong cues win outright, weak
ones ("join", "participar", "¿a qué hora?", "link") only when the rest of the message names
no topic of its own ("quiero unirme a la lucha contra la trata" is about trafficking).
Greetings and thanks are help; a topic question that starts with "hola" is still a topic
question when the topic is clear or the message asks which objective or table it is.
Advertisements posted in groups are unknown.
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
    "counter": "counter",  # "how do we counter that", not "counting migrants"
    # sport ("torneos de fútbol y deporte"), not deportation
    "deporte": "sport",
    "deportes": "sport",
    "deportivo": "sport",
    "deportiva": "sport",
    "deportivos": "sport",
    "deportivas": "sport",
    # the press ("los medios", "media coverage"), not measuring ("mediciones")
    "media": "media",
    "medios": "media",
    # selling things ("alguien vende empanadas"), not people sold ("las vendieron")
    "vende": "vende",
    "venden": "venden",
    "vender": "vender",
    "vendiendo": "vendiendo",
    # prisoners ("presos"), not the press ("press", "prensa")
    **dict.fromkeys("preso presos presa presas".split(), "preso"),
    # one stem for the noun and the verb ("passport renewal", "renewing a passport")
    "renewal": "renew",
    "renewals": "renew",
    # Spanish verbs whose stem changes ("el consulado no me renueva el pasaporte")
    **dict.fromkeys("renueva renuevan renuevo renueve renueven".split(), "renov"),
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
    tardes noches dias dia morning afternoon evening ayuda ayudar ayudan ayudame apoyo apoyar solo
    mejor mejores mejorar queda quedan
    explicame explica cuentame dime saludos saludo saluda saludamos consulta consultas
    consultar consultita pregunta preguntas preguntar preguntita duda dudas query queries
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
    don didn doesn isn aren wasn weren haven hasn wouldn couldn shouldn won ain ll re ve
    table tables topic topics issue issues theme themes subject question questions
    gcm compact migrant migrants migration migrations immigrant immigrants immigration
    emigrant emigrants migratory people person persons country countries cover covers
    covering deal deals dealing handle handles handling address addresses fit fits belong
    belongs ngo ngos organization organizations organisation organisations group groups
    help helps support supports explain mean means related relating regarding concerning
    thing things something anything stuff kind sort lot lots many much one
    """.split()
) | frozenset(
    # Portuguese function words of portuñol questions ("qual objetivo é pra isso?")
    """
    nao pra pro em um uma umas uns na nas no nos do da dos das com sem muito muita muitos
    muitas aqui ali qual quais voce voces eu ele ela eles elas meu minha meus minhas nosso
    nossa nossos nossas tem tenho temos sao ate mais ou ao aos pelo pela pelos pelas isso
    esse essa este esta onde quando quem preciso precisa precisamos quero queremos
    obrigado obrigada oi bom boa tambem sobre
    """.split()
) | frozenset(
    # Short and local names of places, same reason as below.
    """
    guate xela tegus chapin chapines catracho catrachos guanaco guanacos tico ticos nica
    nicas boricua boricuas gringolandia yunai cdmx df chiapas oaxaca sonora sinaloa
    chihuahua juarez reynosa matamoros monterrey saltillo nogales tenosique veracruz
    guadalajara tabasco quintana roo yucatan coahuila tamaulipas texas arizona
    california florida york medellin cali barranquilla cartagena ipiales
    arica tacna iquique antofagasta tumbes guayaquil cuenca huaquillas rosario
    cordoba mendoza montevideo asuncion paz cruz cochabamba oruro sao paulo janeiro
    roraima pacaraima boa vista manaus brasilia pernambuco santo domingo puerto rico
    jamaica trinidad tobago aruba curazao bahamas belice guyana surinam san jose managua
    tegucigalpa pedro sula salvador
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
    r"info(?:rmation)?\s+(?:about|on|regarding)|"
    # "¿alguien tiene el número de un plomero?": a phone number, not figures
    r"(?:el|un|su|tu|mi|the|a|your|his|her)\s+(?:numero|number)\s+(?:de|of|for)\s+"
    r"(?:un|una|el|la|a|an|the|telefono|celular|contacto|whatsapp)|"
    r"(?:numero|numeros)\s+de\s+(?:telefono|celular|contacto|whatsapp)|"
    r"(?:phone|contact|whatsapp|cell)\s+numbers?)\b"
)

# Spanish "trata" is both "trafficking" (la trata, víctimas de trata) and "deals with"
# (¿qué objetivo trata...?).  In this bot's domain the noun is the default; it is the verb
# right after the question's subject, unless "de personas", "sexual"... follows.
_TRATA_VERB_BEFORE = frozenset(
    "objetivo objetivos mesa mesas que se cual cuales quien esto eso tambien solo tema temas "
    "asuntos".split()
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
    r"displaced|retornad\w*|returnees|deportad\w*|deportees|venezolan\w*|venezuelans?|haitian\w*|"
    r"colombian\w*|cuban\w*|nicaraguan\w*|hondure\w*|hondurans?|guatemal\w*|salvadore\w*|"
    r"salvadorans?|dominican\w*|peruan\w*|peruvians?|ecuatorian\w*|ecuadorians?|brazilians?|"
    r"jamaicans?|guyanese|chinese|africans?|africanos)\b|"
    # "¿cuántos nicas han llegado?": any group, if they arrive, cross or live somewhere
    r"\b(?:how\s+many|cuant[oa]s)\s+(?!(?:mesas|tables|working|objetivos|objectives|goals|"
    r"organizaciones|organi[sz]ations|orgs?|miembros|members|reuniones|meetings|veces|times|dias|"
    r"days|anos|years|meses|months|horas|hours)\b)(?:\w+\s+){1,3}?"
    r"(?:hay|han\s+llegado|llegaron|han\s+cruzado|cruzaron|cruzan|viven|han\s+entrado|entraron|"
    r"are\s+there|are\s+in|are\s+living|have\s+arrived|arrived|crossed|live\s+in|living\s+in|"
    r"entered)\b"
)


# "no saben a dónde ir", "don't know who to ask": a need for orientation (objective 3),
# again made only of stopwords.
_WAYFINDING = re.compile(
    r"\b(?:no|don'?t|do\s+not|didn'?t|did\s+not|doesn'?t|does\s+not)\s+(?:\w+\s+)?"
    r"(?:know|knew|saben|sabe|se|sabia|sabian|sabemos|sabiamos)\s+"
    r"(?:where|a\s+donde|adonde|donde|who|a\s+quien|a\s+quienes)\b"
    r"(?!\s+(?:esta|estan|is|are|was|were|quedo|anda|andan|se\s+encuentra))|"
    r"\b(?:no\s+clue|no\s+idea|ni\s+idea)\s+(?:about|of|where|how|de|sobre|donde|como)\b"
)


# "¿por qué se va la gente?", "why do people migrate": the drivers of migration
# (objective 2), though "leave" or "go" alone say little.
_WHY_LEAVE = re.compile(
    r"\b(?:por\s*que|why|por\s+eso|that'?s\s+why|por\s+lo\s+que|asi\s+que|"
    r"(?:causas|razones|motivos|reasons|causes)\s+(?:por\s+(?:las|los)\s+que|de\s+que|why|that|"
    r"for\s+which))\s+(?:\w+\s+){0,5}?(?:sale|salen|salimos|se\s+va|se\s+van|nos\s+vamos|"
    r"se\s+fue|se\s+fueron|migra|migran|emigra|emigran|huye|huyen|deja|dejan|abandona\w*|"
    r"leave|leaves|leaving|left|migrate|migrates|emigrate|emigrates|flee|flees|fled)\b"
)
# "se están yendo porque ya no hay pesca", "they left because of the gangs": leaving and
# its reason, objective 2 again.
_LEFT_BECAUSE = re.compile(
    r"\b(?:se\s+(?:estan\s+)?(?:yendo|va|van|fue|fueron|iban)|salen|salieron|huyen|huyeron|"
    r"emigran|emigraron|left|leave|leaving|fled|flee|migrated|emigrated)\s+(?:\w+\s+){0,4}?"
    r"(?:porque|por\s+(?:la|el|las|los)|debido|because|due\s+to)\b"
)
# "no hay trabajo en su país y se van", "no jobs, so people leave": the same, reason first.
_LACK_SO_LEAVE = re.compile(
    r"\b(?:no\s+hay|no\s+habia|no\s+tienen|falta|faltan|sin|no|there\s+(?:are|is)\s+no|"
    r"lack\s+of)\s+(?:\w+\s+){0,2}?(?:trabajo|empleo|comida|futuro|oportunidades|seguridad|"
    r"work|jobs?|food|future|opportunities|security)\b(?:\s+\w+){0,5}?\s+(?:y|entonces|"
    r"asi\s+que|por\s+eso|so|and|then|that'?s\s+why)\s+(?:\w+\s+){0,3}?(?:se\s+(?:va|van|fue|"
    r"fueron|marcha\w*)|emigra(?:n|ron)?|migra(?:n|ron)?|salen|salieron|huyen|huyeron|"
    r"leave|leaves|left|leaving|migrate|emigrate|flee|go\s+north)\b"
)
# "la obligaron a trabajar en un bar", "forced to work for free": forced labour, a form
# of trafficking (objective 10), though "obligar" alone points to forced displacement.
_FORCED_WORK = re.compile(
    r"\b(?:obligaron|obligan|obligada|obligadas|obligados|obligado|forzaron|forzada|forzadas|"
    r"forced|made|makes|make)\s+(?:\w+\s+){0,2}?(?:a\s+|to\s+)?(?:trabajar|prostituir\w*|work|"
    r"sell\s+sex|beg|pedir)\b"
)
# "dicen que los migrantes traen enfermedades", "people say migrants steal jobs": a
# stereotype (objective 17), though each word is common.
_STEREOTYPE = re.compile(
    r"\b(?:dicen|dice|creen|piensan|say|says|said|think|thinks|claim|claims)\s+(?:que\s+|that\s+)?"
    r"(?:\w+\s+){0,2}?(?:migrantes|inmigrantes|extranjeros|venezolanos|haitianos|colombianos|"
    r"cubanos|nicas|refugiados|migrants|immigrants|foreigners|venezuelans|haitians|colombians|"
    r"cubans|refugees)\s+(?:\w+\s+)?(?:son|traen|roban|quitan|tienen|contagian|vienen\s+a|are|"
    r"bring|steal|take|have|carry|spread|come\s+to)\b|"
    # "vete a tu país", "told us to go back to our country": the classic insult
    r"\b(?:vete|vayanse|vayase|largate|larguense|regresate|regresen|devuelvete|"
    r"que\s+(?:me|nos|te|se)\s+(?:vaya|vayan|vayamos|regrese|regresen|vuelva|vuelvan))\s+"
    r"(?:a|pa|para)\s+(?:tu|su|mi|sus|nuestro)\s+(?:pais|tierra)\b|"
    r"\b(?:told|tell|tells|telling|yell\w*|shout\w*|said)\s+(?:me|us|them|him|her)\s+to\s+"
    r"go\s+(?:back|home)\b|\bgo\s+back\s+to\s+(?:your|their)\s+(?:own\s+)?country\b"
)
# "que la gente sepa sus derechos", "so they know their rights": information (objective 3).
_KNOW_RIGHTS = re.compile(
    r"\b(?:sepa|sepan|sabe|saben|saber|conozca|conozcan|conocer|conoce|conocen|know|knows|learn|"
    r"learns|aware\s+of)\s+(?:\w+\s+)?(?:sus|mis|tus|nuestros|los|their|your|my|our)\s+"
    r"(?:derechos|rights)\b"
)
# "personas mayores", "adultos mayores": old age, though "mayor" alone is just "bigger".
_ELDERLY = re.compile(r"\b(?:personas|adultos|adultas|migrantes|gente|senoras|senores)\s+mayores\b")
# "ir a trabajar a España", "go work in Canada": moving to work, a labour pathway
# (objective 5), though each word is common.
_WORK_ABROAD = re.compile(
    r"\b(?:ir|irme|irnos|irse|irte|viajar|emigrar|go|going|move|moving|travel|migrate)\s+"
    r"(?:a\s+|to\s+|and\s+)?(?:trabajar|work|working)\s+(?:a|al|en|in|to|abroad|afuera|overseas)\b"
)
# "lo mandaron de vuelta a Honduras", "they sent him back to Haiti": a return or a
# deportation (objective 21), though "mandar" alone is sending money ("send money back
# home" is a remittance).
_NOT_A_PERSON = (
    r"(?!(?:money|cash|dinero|plata|remittances?|dollars|dolares|it|that|this|something|"
    r"algo|eso)\b)"
)
_SENT_BACK = re.compile(
    rf"\b(?:mandaron|mandan|enviaron|envian|regresaron|devolvieron)\s+(?:{_NOT_A_PERSON}\w+\s+)?"
    r"de\s+vuelta\b|"
    rf"\b(?:sent|send|sends|sending|shipped|flown|flew)\s+(?:{_NOT_A_PERSON}\w+\s+)?"
    r"back\s+(?:to|home)\b"
)
# "no sé nada de mi hermano", "haven't heard from him since": a missing person
# (objective 8), though each word is common.
_NO_NEWS = re.compile(
    r"\bno\s+(?:se|sabemos|sabe|saben|he\s+sabido|hemos\s+sabido|ha\s+sabido|tenemos|tengo|"
    r"tienen|hay)\s+(?:nada|noticias|razon)\s+(?:de|del)\s+(?:mi|mis|su|sus|nuestro|nuestra|"
    r"nuestros|el|ella|ellos|ellas|la|los)\b|"
    r"\b(?:haven'?t|hasn'?t|have\s+not|has\s+not|never|nobody\s+has|no\s+one\s+has)\s+"
    r"heard\s+(?:from|of|anything)\b|\bno\s+news\s+(?:from|of|about)\s+(?:my|our|his|her|"
    r"their|him|them)\b"
)
# "quiero traer a mis papás", "bring my wife and kids": family reunification (objective
# 5), though each word is common.
_BRING_FAMILY = re.compile(
    r"\b(?:traer|traerme|traerlos|traerlas|traiga|trajera|reunirme\s+con|reunirnos\s+con|"
    r"bring|bringing|reunite\s+with|be\s+reunited\s+with)\s+(?:a\s+|over\s+)?(?:mis|mi|my|our|"
    r"nuestros|nuestras|nuestra|nuestro|su|sus|his|her|their)\s+(?:\w+\s+)?(?:papas|padres|papa|"
    r"mama|mami|papi|hijos|hijas|hijo|hija|esposa|esposo|marido|mujer|familia|familiares|"
    r"hermanos|hermanas|hermano|hermana|abuelos|abuela|abuelo|nietos|parents|mom|mum|dad|"
    r"mother|father|kids|children|son|daughter|wife|husband|spouse|family|brother|sister|"
    r"siblings|grandparents)\b"
)
# "busco a mi hermano", "searching for his daughter": a missing relative (objective 8).
_SEARCHING = re.compile(
    r"\b(?:search\w*|looking|buscand\w*|busca|buscan|buscamos|busco)\s+(?:for\s+)?(?:a\s+)?"
    r"(?:my|his|her|their|our|mi|su|sus|mis|nuestro|nuestra|nuestros)\s+(?:\w+\s+)?(?:sons?|"
    r"daughters?|brothers?|sisters?|husband|wife|father|mother|child|children|kids|relatives?|"
    r"loved\s+ones|hijo|hija|hijos|hijas|hermano|hermana|hermanos|esposo|esposa|papa|mama|padre|"
    r"madre|familiar\w*|seres\s+queridos)\b"
)
# "me negaron el arriendo por ser venezolana", "they won't rent to Haitians": treated
# differently for who one is, i.e. discrimination (objective 17).
_FOR_WHO_ONE_IS = re.compile(
    r"\bpor\s+ser\s+(?:\w+\s+)?(?:extranjer\w*|migrantes?|inmigrantes?|venezolan\w*|haitian\w*|"
    r"colombian\w*|peruan\w*|cuban\w*|nicaraguense\w*|nicas?|hondure\w*|dominican\w*|"
    r"bolivian\w*|negr\w*|moren\w*|indigenas?|trans|gays?|lesbianas?|afro\w*)\b|"
    r"\bbecause\s+(?:i'?m|i\s+am|we'?re|we\s+are|they'?re|they\s+are|she'?s|he'?s|she\s+is|"
    r"he\s+is)\s+(?:a\s+)?(?:\w+\s+)?(?:migrants?|foreigners?|immigrants?|venezuelans?|"
    r"haitians?|colombians?|black|indigenous|trans|gay)\b|"
    r"\b(?:won'?t|will\s+not|don'?t|do\s+not|refus\w*\s+to)\s+(?:rent|hire|serve)\s+"
    r"(?:to\s+)?(?:\w+\s+)?(?:migrants|foreigners|immigrants|venezuelans|haitians|colombians|"
    r"us|them)\b"
)
# "presos por ser migrantes", "jailed for being undocumented": detention for one's status
# (objective 13), which "por ser migrante" alone would read as discrimination.
_JAILED_FOR_STATUS = re.compile(
    r"\b(?:pres[oa]s?|detenid[oa]s?|encarcelad[oa]s?|encerrad[oa]s?|arrestad[oa]s?|"
    r"jailed|detained|arrested|locked\s+up|imprisoned|held)\s+(?:\w+\s+){0,2}?"
    r"(?:por\s+(?:ser|estar)|for\s+being)\s+(?:\w+\s+)?(?:migrantes?|inmigrantes?|extranjer\w*|"
    r"indocumentad\w*|irregulares?|sin\s+papeles|migrants?|immigrants?|foreigners?|"
    r"undocumented|irregular)\b"
)
# "cobran 5 mil dólares por cruzar la frontera", "paid $3000 to get across": paying
# someone for the crossing is smuggling (objective 9), whatever border it crosses.
_PAID_TO_CROSS = re.compile(
    r"\b(?:(?:cobr|pag)(?:a|an|amos|aron|o|e|ue|ar|ando|en|aba|aban)|charg\w*|pa(?:y|ys|id|ying))"
    r"\s+(?:\w+\s+){0,4}?(?:por|para|to|for)\s+(?:\w+\s+)?(?:cruzar|pasar(?:los|nos|me)?|"
    r"llevar(?:los|nos|me)?|cross|crossing|get\s+across|take\s+(?:\w+\s+)?across|"
    r"be\s+taken\s+across)\b"
)
# "riding the train", "fell off a freight train": the train migrants ride ("el tren", "la
# bestia"), not "we train migrants" (skills, objective 18), so only the noun is turned.
_TRAIN = re.compile(
    r"\b(?:the|a|by|on|off|onto|from|freight|cargo|that|this)\s+(?:freight\s+|cargo\s+)?"
    r"trains?\b"
)
_CUES = (
    (_TRAIN, " tren "),
    (_JAILED_FOR_STATUS, " detenidos "),
    (_PAID_TO_CROSS, " coyotaje "),
    (_HEADCOUNT, " headcount "),
    (_SEARCHING, " nonews "),
    (_FOR_WHO_ONE_IS, " discriminacion "),
    (_NO_NEWS, " nonews "),
    (_BRING_FAMILY, " familyreunion "),
    (_SENT_BACK, " sentback "),
    (_WORK_ABROAD, " workabroad "),
    (_ELDERLY, " elderly "),
    (_WAYFINDING, " wayfinding "),
    (_WHY_LEAVE, " whyleave "),
    (_LEFT_BECAUSE, " whyleave "),
    (_LACK_SO_LEAVE, " whyleave "),
    (_KNOW_RIGHTS, " knowrights "),
    (_FORCED_WORK, " forcedwork "),
    (_STEREOTYPE, " stereotype "),
)


def _tokens(folded: str) -> list[str]:
    for pattern, token in _CUES:
        folded = pattern.sub(token, folded)
    return _TOKEN_RE.findall(folded)[:_MAX_TOKENS]


# Everyday words with one meaning in this domain, mapped to the word the knowledge base
# uses, on both sides (keywords and questions), so that a keyword phrase such as "mandar
# dinero" also matches "mandar lana".  Regional slang for money, work and children, and
# the Portuguese words that Brazilian members mix into their Spanish ("portuñol") and that
# no spelling rule turns into the Spanish word.
_CANONICAL = {
    # money: MX lana/varo, CA pisto, AR/UY guita, CO/VE billete, PE/BO plata, BR dinheiro
    **dict.fromkeys(
        "lana varo varos pisto guita billete billetes biyuyo dinheiro".split(), "dinero"
    ),
    **dict.fromkeys("cash bucks dough".split(), "money"),
    # work: MX chamba/jale, AR/UY laburo, CL pega, CO camello, BR trabalho/trampo/emprego
    **dict.fromkeys(
        "chamba chambas chambear jale laburo laburos laburar pega pegas camello curro "
        "trabalho trabalhos trabalhar trampo emprego empregos".split(),
        "trabajo",
    ),
    # children: MX chamacos/morros, CA cipotes/patojos, AR pibes, UY gurises, VE chamos,
    # BR criancas/filhos
    **dict.fromkeys(
        "chamacos chamaquitos morritos cipotes cipotas patojos patojas pibes pibitos gurises "
        "gurices chamos chamitos criancas".split(),
        "ninos",
    ),
    # peoples of the region, named instead of "indigenous": Wayuu, Warao, Mapuche...
    **dict.fromkeys(
        "wayuu warao mapuche mapuches garifuna garifunas miskito miskitos quechua quechuas "
        "aymara aymaras embera emberas kichwa ngabe qeqchi kiche mam maya mayas amerindian "
        "amerindians amerindio amerindios".split(),
        "indigenas",
    ),
    "filhos": "hijos", "filho": "hijo", "filha": "hija", "mulher": "mujer", "mulheres": "mujeres",
    "gravida": "embarazada", "gravidas": "embarazadas", "pessoa": "persona", "pessoas": "personas",
    "preconceito": "prejuicios", "preconceitos": "prejuicios", "escravo": "esclavo",
    "escrava": "esclava", "escravos": "esclavos", "escravidao": "esclavitud", "saude": "salud",
    "escola": "escuela", "escolas": "escuelas", "moradia": "vivienda", "aluguel": "alquiler",
    "aposentadoria": "jubilacion", "aposentado": "jubilado", "previdencia": "pension",
    "embaixada": "embajada", "coiote": "coyote", "coiotes": "coyotes", "dados": "datos",
    "pesquisa": "investigacion", "conta": "cuenta", "seguranca": "seguridad",
    "exploracao": "explotacion", "explorados": "explotados", "explorada": "explotada",
    "nascimento": "nacimiento", "certidao": "certificado", "abrigo": "albergue",
    "acolhida": "acogida", "acolhimento": "acogida", "desaparecimento": "desaparicion",
    "vizinhos": "vecinos", "lingua": "idioma", "ensino": "educacion",
}  # fmt: skip


def _content_stems(tokens: list[str]) -> list[str]:
    """Stems of the topic-bearing words of a question, in order, without duplicates."""
    stems: list[str] = []
    for i, token in enumerate(tokens):
        if token in ("trata", "tratan", "tratas"):
            if _is_trata_verb(tokens, i):
                continue
            token = "trata"
        token = _CANONICAL.get(token, token)
        if token in _STOPWORDS or token.isdigit() or len(token) < 2:
            continue
        stem = _stem(token)
        if stem not in stems:
            stems.append(stem)
    return stems


# Function words that carry the meaning of a keyword phrase: "no hay comida" is about
# hunger back home, "comida" alone is not; "dejar su país" is leaving home, "dejar pasar"
# is not; "no work back home" is not "work back home".  They never score on their own
# (they are stopwords), but a keyword phrase that has one only matches a question that
# has it too; a phrase of one content word plus an anchor scores fully only then.
_ANCHORS = {
    **dict.fromkeys(
        "no not sin without nada never nunca ni nao sem don didn doesn isn aren wasn weren "
        "haven hasn won cannot cant dont nor jamas ningun ninguna ninguno".split(),
        "~neg",
    ),
    **dict.fromkeys("pais paises country countries patria".split(), "~pais"),
}


def _anchors(tokens: list[str]) -> set[str]:
    return {_ANCHORS[t] for t in tokens if t in _ANCHORS}


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
    anchored: list[tuple[int, str, frozenset[str], float]] = []
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
                tokens = _tokens(fold(keyword))
                stems = _content_stems(tokens)
                anchors = _anchors(tokens)
                if len(stems) == 1 and anchors:
                    add(number, stems, _W_PHRASE_WORD * weight)
                    anchored.append((number, stems[0], frozenset(anchors), weight))
                elif len(stems) == 1:
                    add(number, stems, weight)
                elif stems:
                    add(number, stems, _W_PHRASE_WORD * weight)
                    phrases.append((number, (*stems, *sorted(anchors)), weight))
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
        bonus = _PHRASE_BONUS * weight * sum(idf.get(s, 0.0) for s in stems)
        phrase = _Phrase(number, key[1], bonus)
        for stem in key[1]:
            by_stem[stem].append(phrase)
    # An anchored keyword restores its word's full weight when the anchor is there too.
    for number, stem, anchors, weight in anchored:
        missing = weight - field[number][stem]
        key = (number, frozenset({stem, *anchors}))
        if missing > 0 and key not in seen:
            seen.add(key)
            by_stem[stem].append(_Phrase(number, key[1], missing * idf[stem]))

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


# Portuguese spellings of words that are otherwise the same in Spanish: "integração" ->
# "integracion", "remessas" -> "remesas", "fronteira" -> "frontera", "comunidade" ->
# "comunidad", "trabalho" -> "trabajo".  Tried on words the index does not know.
_PORTUGUESE_SPELLING = (
    (re.compile(r"coes$"), "ciones"),
    (re.compile(r"cao$"), "cion"),
    (re.compile(r"dade(s?)$"), r"dad\1"),
    (re.compile(r"agem$"), "aje"),
    (re.compile(r"vel$"), "ble"),
    (re.compile(r"ss"), "s"),
    (re.compile(r"lh"), "j"),
    (re.compile(r"nh"), "n"),
    (re.compile(r"ei"), "e"),
)


def _spanish_spelling(token: str) -> str:
    for pattern, replacement in _PORTUGUESE_SPELLING:
        token = pattern.sub(replacement, token)
    return token


@lru_cache(maxsize=4096)
def _resolve_unknown(token: str) -> tuple[str, float] | None:
    """Map a word the index does not know to a known stem: Portuguese spelling, typo,
    then shared prefix."""
    index = _index()
    spanish = _spanish_spelling(token)
    if spanish != token and _stem(spanish) in index.weights:
        return _stem(spanish), 1.0
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


def _score(stems: list[str], surface: dict[str, str], anchors: set[str]) -> dict[int, float]:
    """Objective -> relevance of the question's content stems (and phrase anchors)."""
    index = _index()
    scores: dict[int, float] = defaultdict(float)
    present: set[str] = set(anchors)
    lookups = 0
    for stem in stems:
        factor = 1.0
        if stem not in index.weights:
            if lookups >= _MAX_FUZZY_LOOKUPS:
                continue
            lookups += 1
            resolved = _resolve_unknown(surface.get(stem, stem))
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
_TECHNICAL = re.compile(r"\b(?:tech(?:nical)?\s+tables?|mesas?\s+tec(?:nicas?|h)?|tt)\b")
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

# Kinds of member organisation, as the subject of "can a returnee org join?".
_ORG_NOUN = (
    r"(?:org|orgs|organi[sz]ations?|organizaci\w+|ong|ongs|ngos?|red|redes|networks?|"
    r"colectiv\w+|collectives?|asociaci\w+|associations?|fundaci\w+|foundations?|grupos?|"
    r"groups?|sindicatos?|unions?|iglesias?|churches?|parroquias?|parish\w*|shelters?|"
    r"albergues?|casas?\s+del?\s+migrante|coalici\w+|coalitions?|plataformas?|platforms?|"
    r"movimientos?|movements?|cooperativas?|cooperatives?|clubs?|clubes|entidad\w*|"
    r"institucion\w*|institutions?|agenc\w+)"
)
# Unambiguous requests to register ("inscribirnos", "sign up", "membership").
_REGISTER = re.compile(
    r"\b(?:inscrib\w*|inscripcion\w*|registr(?:ar|arme|arnos|arse|ate|ense|emos|arlas?|arlos?)|"
    r"registr\w*\s+(?:a\s+)?(?:mi|mis|nuestra|nuestro|nuestras|la|una|our|my|an?)\s+"
    r"(?:organizacion|ong|fundacion|asociacion|colectivo|red|institucion|grupo|entidad|"
    r"organi[sz]ation|ngo|group|network|association|foundation|collective)\w*|"
    r"(?:me|nos)\s+registr\w*|registr(?:ame|anos|amos)|(?:me|nos)\s+(?:anot|apunt)\w*|"
    rf"(?:anot|apunt|agreg|inclu|inscrib|sum)\w*\s+a\s+(?:mi|nuestra|nuestro)\s+{_ORG_NOUN}|"
    r"(?:anot|apunt)ar(?:me|nos|se)|"
    r"register|registering|registration|sign(?:ing)?[\s-]+(?:\w+\s+){0,3}?up|signup|"
    r"(?:get|got|getting|be|become)\s+(?:\w+\s+){0,2}?registered|"
    r"sumar\s+a\s+(?:mi|nuestra|nuestro)\s+(?:organizacion|org|ong|red|fundacion|colectivo|"
    r"asociacion)|"
    r"become\s+(?:a\s+)?members?|be\s+(?:a\s+)?members?|membership|membresia|"
    r"(?:listed|included|accepted|admitted)\s+as\s+(?:a\s+)?members?|"
    r"dar(?:nos|me|la|lo)?\s+de\s+alta|"
    r"(?:ser|sea|seamos|sean|volvernos|volverse)\s+(?:miembros?|socios?|integrantes?)|"
    r"hacer(?:me|nos)\s+(?:miembros?|socios?)|"
    r"add\s+(?:us|me|our\s+\w+)\s+(?:to|in)\b|agreg(?:ar|uen|uenme|uennos)(?:me|nos)?|"
    r"enrol(?:l)?\s+(?:my|our)\s+(?:organi[sz]ation|ngo|network|group|collective|association|"
    r"foundation))\b"
)
# Verbs that mean joining something, which may be the Mechanism or anything else ("unirme
# a la lucha contra la trata"); they count when the rest of the question names no topic or
# when it names the Mechanism or a table.
_REGISTER_WEAK = re.compile(
    # "can a returnee org from Guatemala join?", "¿puede una red de retornados unirse?",
    # "¿una org indígena puede participar?": the organisation's kind is who asks.
    rf"\b(?:(?:can|could|may|do|does)\s+(?:an?\s+|our\s+|my\s+|the\s+|one\s+)?"
    rf"(?:[\w']+\s+){{0,4}}?{_ORG_NOUN}\s+(?:[\w']+\s+){{0,4}}?(?:join|participate|"
    r"take\s+part|be\s+(?:a\s+)?part|become\s+(?:a\s+)?members?|be\s+members?|apply)|"
    rf"(?:puede|pueden|podria|podrian)\s+(?:\w+\s+){{0,4}}?{_ORG_NOUN}\s+(?:\w+\s+){{0,4}}?"
    r"(?:unirse|sumarse|participar|formar\s+parte|ser\s+parte|afiliarse|integrarse|"
    r"ingresar|entrar|ser\s+miembros?)|"
    rf"{_ORG_NOUN}\s+(?:\w+\s+){{0,4}}?(?:puede|pueden|podria|podrian)\s+(?:participar|"
    r"unirse|sumarse|formar\s+parte|ser\s+parte|afiliarse|integrarse|entrar|ser\s+miembros?)|"
    # "¿aceptan organizaciones de Brasil?", "do you accept grassroots groups?"
    rf"(?:aceptan|admiten|accept|admit)\s+(?:\w+\s+){{0,3}}?{_ORG_NOUN}|"
    rf"(?:mi|nuestra|nuestro)\s+{_ORG_NOUN}\s+(?:este|esten|sea|forme|participe|entre)\b|"
    r"add\s+(?:us|me|my\s+\w+|our\s+\w+)|(?:we|i)\s+want\s+in\b|"
    r"(?:join|joining|joined)(?!\s+(?:me|him|her|them|my|his|their)\b)|"
    r"unir(?:me|nos|se|te)(?!\s+(?:a|con)\s+(?:mi|mis)\b)|nos\s+unimos|me\s+uno|sumar(?:me|nos|se)|"
    r"nos\s+sumamos|afili\w*|formar\s+parte|form(?:e|emos|o|amos)\s+parte|ser\s+parte|"
    # "¿nos podemos unir?", "¿cómo se suman nuevas organizaciones?"
    r"(?:nos|me)\s+(?:podemos|puedo|quiero|queremos)\s+(?:unir|sumar|afiliar)|"
    r"se\s+(?:suman|afilian)|"
    r"(?:be|become|becoming)\s+(?:a\s+)?part\s+of|take\s+part\s+in|participate\s+in|"
    r"(?:can|could|may)\s+(?:we|i|our\s+\w+|my\s+\w+)\s+(?:participate|join|take\s+part|be\s+part)|"
    r"(?:se\s+puede|podemos|puedo|pueden|podria|podriamos)\s+participar|"
    r"se\s+(?:puede|pueden)\s+(?:sumar|unir|afiliar)|"
    r"(?:how|where)\s+(?:can|do|could|should)\s+(?:we|i|my\s+\w+|our\s+\w+)\s+"
    r"(?:participate|take\s+part|get\s+involved|be\s+involved|apply)|get\s+involved|"
    r"como\s+(?:puedo|podemos|se\s+puede)\s+participar|quiero\s+participar|queremos\s+participar|"
    r"como\s+participamos|postular\w*|adherir\w*|"
    r"(?:how|where)\s+(?:does|do|can|could)\s+(?:an?\s+|our\s+|my\s+)?"
    r"(?:organi[sz]ations?|orgs?|ngos?|groups?|networks?|collectives?)\s+"
    r"(?:apply|join|participate))\b"
)
# Verbs of getting into a place or group ("entrar", "integrarnos"): joining only when the
# Mechanism or a table is named ("entrar al mecanismo", not "entrar al país").
_REGISTER_ENTER = re.compile(
    r"\b(?:entrar|entre\s+(?:a|al)|entremos|entramos|ingres(?:ar|e|emos|amos|o)|"
    r"integrar(?:me|nos|se)|integr(?:e|en|emos)|incorpor\w*|meter(?:me|nos)|get\s+into|be\s+added|"
    r"participar|participamos|participo|sum(?:e|en|emos|o)|se\s+un(?:a|an|e|en)|nos\s+unamos|"
    r"adhesion|afiliacion|"
    r"participe|participen|participate|participating)\b"
)
# "somos una red de jornaleros", "we are a diaspora group": who is asking, not what
# about, when the question is whether they can join.
_SELF_DESCRIPTION = re.compile(
    r"\b(?:we\s+are|we'?re|i\s+am|i'?m|somos|soy|trabajamos|we\s+work|i\s+work|"
    r"(?:i|we)\s+represent|represento|representamos|les\s+escrib\w*|writing\s+(?:from|for)|"
    r"(?:our|my|nuestra|nuestro|mi)\s+(?:org\w*|ngo|ong|group|network|red|fundacion|asociacion|"
    r"colectivo)\s+(?:works?|is|trabaja|es))\b.*?(?=[.,;:!?]|\by\b|\band\b|\bpero\b|\bbut\b|$)"
)
_CLAUSE_END = re.compile(r"[.,;:!?]")
_MECHANISM = re.compile(
    r"\b(?:mecanismo|mechanism|mesas?|tables?|wt\s*\d|mt\s*\d|plataforma|platform|espacio|"
    r"dialogo|dialogue|members?|miembros?)\b"
)
_REGISTER_BLOCK = re.compile(
    r"\b(?:birth|births|civil|nacimiento|nacimientos|bebes?|baby|babies|newborns?|"
    r"recien\s+nacid\w*|partidas?|actas?|consular|escuela|colegio|school|hijos?|hijas?|naci\w*|"
    r"nace\w*|born|(?:la|lo|los|las)\s+(?:pude|puedo|pudimos|quieren|quisieron|dejan|dejaron)\s+"
    r"registr\w*|"
    # registering for a status or a permit ("the registration exercise", "registrarme
    # para el PPT") is a regularisation question, not joining the Mechanism
    r"exercise|ejercicio|amnist\w*|regulari[sz]\w*|residen\w*|permits?|permiso\w*|visas?|"
    r"ppt|ptp|pep|tps|etpv|censo|census|biometric\w*|biometrico\w*|refugi\w*|asylum|asilo)\b"
)
_MEETINGS = re.compile(
    r"\b(?:meet|meets|meeting|meetings|reunion|reuniones|reune|reunen|reunimos|reunirse|"
    r"reunira|reuniran|reunirnos|reus?|sesion|sesiones|session|sessions|calendario|calendar|"
    r"schedule|scheduled|cronograma|pledges?|compromisos?|commitments|remind\w*|recordatorios?|"
    r"recuerdame|"
    r"avisame|convocatoria|quarterly|trimestral\w*|cada\s+cuanto|how\s+often|"
    r"(?:la|una|proxima|siguiente|hay)\s+junta(?!\s+(?:de\s+vecinos|vecinal|directiva|comunal))|"
    r"(?:se|nos)\s+junt(?:a|an|amos|aremos)|juntarnos|"
    r"(?:el|un|proximo|siguiente|next|the)\s+encuentro|gatherings?|get\s*togethers?|"
    r"zoom|google\s+meet|videollamada|"
    r"next\s+call|proxima\s+llamada|cuando\s+(?:toca|nos\s+vemos|se\s+ven|es\s+la\s+proxima)|"
    r"regional\s+review|revision\s+regional|examen\s+regional|foro|forum|imrf)\b"
)
# Words that ask "when / what time / which link" without saying "meeting": they mean the
# calendar only when the question has no topic of its own ("a qué hora es mañana", not
# "a qué hora abre el consulado").
_MEETINGS_WEAK = re.compile(
    r"\b(?:a\s+que\s+hora|what\s+time(?!\s+is\s+it)|que\s+dia\s+(?:es|toca|sera)|what\s+day|"
    r"(?:the|next|our|this|today|todays|tomorrow|tomorrows)\s+(?:zoom\s+)?calls?|llamada|link|"
    r"enlace\s+(?:de|del|para)|invitacion|invite|upcoming|agenda|fechas?|dates|monitoreo|"
    r"monitoring|deadlines?|due\s+date|plazos?|vence|vencen|pospus\w*|postpon\w*|"
    r"reprogram\w*|reschedul\w*|cancel\w*|suspend\w*|minutes|actas?|minutas?)\b"
)
# Greetings, thanks and small talk: the whole message, give or take fillers ("ok gracias",
# "hola a todos", "buenas tardes equipo").
_FILLER = (
    r"(?:ok|okay|oki|okis|dale|listo|vale|bueno|perfecto|genial|excelente|super|great|cool|"
    r"perfect|awesome|nice|ah|oh|bien|muy\s+bien|y|and|pues|si|yes|buen[ia]simo|buen[ia]sima|"
    r"barbaro|chevere|bacan|joya|claro|lovely|brilliant|sweet|amazing|wow)"
)
_THANKS_WORDS = (
    r"(?:gracia+s|muchas\s+gracia+s|mil\s+gracia+s|thanks|thank\s+(?:you|u)|thx|tks|ty|"
    r"obrigad[oa]|merci|mesi|bendiciones|blessings|cheers)"
)
_GREETING = re.compile(
    rf"^\W*(?:{_FILLER}\W+)*(?:{_THANKS_WORDS}|hola+s?|holi+s?|ola+|hi+|hello+|hey+|buenas|"
    r"buenos\s+dias|buen\s+dia|buenas\s+tardes|buenas\s+noches|"
    r"good\s+(?:morning|afternoon|evening|day)|saludos|saludo|que\s+tal|que\s+onda|que\s+hubo|"
    r"quiubo|epa|alo|oi|greetings|howdy|start|help|ayuda|menu|ayudame|auxilio|"
    # Caribbean and Haitian greetings: "wah gwaan", "morning all", "bonjou", "bonswa"
    r"wh?a+g+w[aw]+n|wah\s+gw[aw]+n|(?:good\s+)?(?:morning|evening)|bonjou\w*|bonswa|"
    r"bonsoir|sup|hiya|hola+\s+a\s+todos)\b"
)
# The bot itself: what it does, how to use it.
_BOT_HELP = re.compile(
    r"\b(?:what(?:\s+exactly)?(?:\s+is|'?s)\s+(?:the\s+)?(?:gcm|global\s+compact|mechanism)|"
    r"que\s+es\s+(?:el\s+)?(?:gcm|pacto|pmm|mecanismo)|"
    r"que\s+(?:puedes|sabes|podes)(?:\s+hacer)?|que\s+sabe\s+hacer|que\s+haces|"
    r"what\s+(?:can|do)\s+you\s+(?:do|know)|"
    r"como\s+funciona\w*|how\s+(?:does|do)\s+(?:this|it|you)\s+(?:bot\s+)?work|"
    r"how\s+(?:do|can)\s+i\s+use|como\s+(?:te\s+)?uso|como\s+se\s+usa|para\s+que\s+sirve\w*|"
    r"comandos?|commands?|instrucciones|instructions|quien\s+eres|who\s+are\s+you|"
    r"what\s+are\s+you|me\s+ayudas|can\s+you\s+help|(?:puedes|podes|podrias|pueden)\s+ayudar\w*|"
    r"menu|usage|options|opciones|bot|"
    r"chatbot|what\s+is\s+this|que\s+es\s+esto|que\s+(?:hago|se\s+hace|hacemos)\s+aqui|"
    r"what\s+do\s+(?:i|we)\s+do\s+here|estas\s+ahi|hay\s+alguien|(?:are\s+)?you\s+there|"
    r"anyone\s+there|anybody\s+there|what\s+(?:topics|questions|things)\s+(?:can|do)\s+you|"
    r"que\s+(?:temas|preguntas|cosas)\s+(?:puedes|sabes|respondes|contestas)|can\s+you\s+answer|"
    r"what\s+(?:\w+\s+)?(?:can|should|do)\s+(?:i|we)\s+ask|"
    r"what\s+(?:else\s+)?can\s+you\s+(?:tell|say|explain)|"
    r"que\s+(?:cosas\s+|temas\s+|preguntas\s+)?(?:te\s+)?(?:puedo|podemos)\s+pregunta\w*|"
    r"para\s+que\s+(?:sirves|sirve\s+esto|estas)|"
    r"puedes\s+(?:responder|contestar)|como\s+te\s+pregunto|how\s+do\s+i\s+ask)\b"
)
# Thanks for something, not a question ("gracias a todos por la reunión de hoy").
_THANKS = re.compile(rf"^\W*(?:{_FILLER}\W+)*{_THANKS_WORDS}\b")
_QUESTION = re.compile(
    r"\?|\b(?:cuando|cuanto|cuantos|como|donde|que\s+\w+\s+(?:es|son|hay)|quien\w*|cual\w*|"
    r"when|how|where|what|who|which|why|pregunta|consulta|duda|question|query)\b"
)
# A bare request for help ("ayuda", "necesito ayuda por favor"), as opposed to "ayuda" in
# a question about a topic ("necesito ayuda con un trámite en la embajada").
_HELP_WORD = re.compile(r"\b(?:ayuda|ayudame|help|help\s+me|auxilio)\b")
# Advertisements and chain messages posted in groups: not questions to the bot.
_ADVERT = re.compile(
    r"\b(?:vendo|vendemos|compro|compramos|se\s+vende|for\s+sale|selling|buy\s+now|"
    r"gan(?:a|ar|e)\s+(?:dinero|plata|dolares)|earn\s+(?:money|cash|\d+)|make\s+money|forex|"
    r"casino|apuestas|betting|onlyfans|"
    r"click\s+here|haz\s+clic|dm\s+me|escribeme\s+al\s+privado|inversion\s+garantizada)\b"
)
_WHICH_TABLE = re.compile(
    r"\b(?:(?:que|cual|which|what|en\s+que|a\s+que)\s+(?:mesa|table|working\s+table|wt)|"
    r"where\s+do\s+we\s+(?:fit|belong)|donde\s+(?:encaja\w*|entra\w*|cae\w*))\b"
)
# "¿qué temas trata la mesa 1?", "what does WT2 cover": a question about a named table,
# whatever topic words the member adds as context ("somos una red de jornaleros").
_TABLE_SCOPE = re.compile(
    r"\b(?:(?:que|what|which|cuales?)\s+(?:\w+\s+){0,2}?(?:temas|objetivos|objectives|topics|"
    r"themes|issues|hace|hacen|does|cubre|cubren|covers?|ve|trata|tratan)|"
    r"de\s+que\s+(?:se\s+encarga|trata|va)|tell\s+me\s+about|describe|hablame\s+de|priorities|"
    r"prioridades|what\s+is\s+(?:\w+\s+){0,3}?about)\b"
)
_TABLE_LIST = re.compile(
    r"\b(?:mesas|tables|estructura\w*|structured?|arquitectura|architecture|organi[sz]ed|"
    r"organizado|"
    r"prioridades|priorities|plan\s+de\s+trabajo|work\s*plan)\b"
)
# "¿bajo qué objetivo...?", "which table should we bring this to?", "where does it fit?"
_ASKS_TOPIC = re.compile(
    r"\b(?:(?:que|cual|which|what|bajo\s+que|under\s+which|in\s+which|to\s+which|con\s+que)\s+"
    r"(?:objetivos?|objectives?|goals?|mesas?|tables?|working\s+tables?|wt|obj)\b|"
    r"donde\s+(?:encaja\w*|entra\w*|cae\w*)|where\s+(?:does|do|would|should|could)\s+"
    r"(?:\w+\s+){1,8}?(?:fit|go|belong|fall)\b)"
)
_OBJECTIVE_LIST = re.compile(r"\b(?:objetivos|objectives|goals|23)\b")

# Relevance thresholds, in idf units (one distinctive keyword is worth about 3).
_TOPIC_MIN = 1.8  # below: no topic at all
_TOPIC_CONFIDENT = 2.4
_TOPIC_MARGIN = 1.25  # best must beat the runner-up by this factor to be confident
_TOPIC_OVER_TABLE = 2.8  # a named table plus a topic this strong is a topic question
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


# Chat shorthand of both languages ("q mesa ve eso xq", "pls", "ppl", "rn"), spelt out
# before anything else reads the text, so that cue phrases and stopwords see real words.
_SHORTHAND = {
    **dict.fromkeys("q k ke xq".split(), "que"),
    **dict.fromkeys("pq porq xk".split(), "porque"),
    **dict.fromkeys("tb tmb tbm tambn".split(), "tambien"),
    **dict.fromkeys("xfa xfavor pf pfv".split(), "por favor"),
    **dict.fromkeys("pls plz plis pliz".split(), "please"),
    **dict.fromkeys("tnx thnx thanx tnks thnks thks".split(), "thanks"),
    **dict.fromkeys("bc bcoz bcuz cuz coz".split(), "because"),
    **dict.fromkeys("wat wht".split(), "what"),
    **dict.fromkeys("govt gov".split(), "government"),
    **dict.fromkeys("mtg mtng".split(), "meeting"),
    "x": "por", "xa": "para", "pa": "para", "d": "de", "dl": "del", "msj": "mensaje",
    "u": "you", "ur": "your", "r": "are", "ppl": "people", "rn": "right now", "abt": "about",
    "hw": "how", "wen": "when", "b4": "before", "w": "with", "mtgs": "meetings",
}  # fmt: skip
_SHORTHAND_RE = re.compile(
    r"(?<![\w'’/])(" + "|".join(sorted(_SHORTHAND, key=len, reverse=True)) + r")(?![\w'’])"
)
# "$200", "US$", "€": an amount of money, which the word tokens alone would lose.
_CURRENCY = re.compile(r"(?:\bus)?\$|€|£")


def _spell_out(folded: str) -> str:
    return _SHORTHAND_RE.sub(lambda m: _SHORTHAND[m.group(1)], folded)


def detect_language(text: str) -> str | None:
    """"es" or "en" when the text is clearly in one of them, else None (never raises)."""
    if not isinstance(text, str):
        return None
    raw = text[:_MAX_CHARS]
    return _language(_tokens(_spell_out(fold(raw))), raw)


# --------------------------------------------------------------------------------------
# Understanding
# --------------------------------------------------------------------------------------

# The words the intent cues are made of, for typo correction ("metting", "regsiter",
# "incribir", "reunon"): the regexes above only see correct spellings.
_CUE_WORDS = tuple(
    """
    meeting meetings reunion reuniones schedule calendar calendario session sessions sesion
    sesiones quarterly trimestral pledges compromisos register registration registrar
    registrarme registrarnos registro inscribir inscribirme inscribirnos inscripcion
    membership membresia
    """.split()
)
_CUE_TOKEN = re.compile(r"[a-z]{5,}")
_LONG_RUN = re.compile(r"([a-z])\1{2,}")  # "ayudaaa", "graciaaas", "pleeease"


@lru_cache(maxsize=4096)
def _cue_spelling(token: str) -> str:
    """The intent cue word a misspelt token stands for, or the token itself."""
    index = _index()
    if token in _CUE_WORDS or token in _STOPWORDS or token in index.word_stem:
        return token
    found = process.extractOne(token, _CUE_WORDS, scorer=fuzz.ratio, score_cutoff=85.0)
    if found is None or found[0][0] != token[0]:
        return token
    cue = found[0]
    if cue.startswith(token) or token.startswith(cue[:-1]):
        return token  # another form of the word ("registra", "reunio"), not a typo
    return cue


def _fix_cue_typos(folded: str) -> str:
    return _CUE_TOKEN.sub(lambda m: _cue_spelling(m.group()), folded)


def _ranked(scores: dict[int, float]) -> list[tuple[int, float]]:
    """Best first; on a tie the objective the question mentions first wins (``scores`` is
    filled in the question's word order): "el consulado cerró y no hay cómo hacer
    trámites" is about the consulate."""
    return sorted(scores.items(), key=lambda item: -round(item[1], 9))


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


@dataclass(frozen=True)
class _Topic:
    """How strongly a text points to objectives."""

    top: tuple[int, ...]  # up to 3 objectives worth naming, best first
    best: float
    confident: bool

    @property
    def present(self) -> bool:
        return self.best >= _TOPIC_MIN


def _topic(unnamed: str) -> tuple[_Topic, list[str]]:
    """The topic of folded text whose table names are blanked, and its content stems."""
    frame_tokens = _tokens(_QUESTION_FRAMES.sub(" ", unnamed))
    stems = _content_stems(frame_tokens)
    surface: dict[str, str] = {}  # stem -> the word it came from, for typo matching
    for token in frame_tokens:
        surface.setdefault(_stem(_CANONICAL.get(token, token)), token)
    ranked = _ranked(_score(stems, surface, _anchors(frame_tokens)))
    best = ranked[0][1] if ranked else 0.0
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    top = tuple(n for n, s in ranked[:3] if s >= max(_TOPIC_MIN, _SECONDARY * best))
    confident = best >= _TOPIC_CONFIDENT and best >= _TOPIC_MARGIN * second
    return _Topic(top, best, confident), stems


def _beyond_self_description(unnamed: str, topic: _Topic) -> _Topic:
    """The topic of what a member asks rather than of who they are: "soy periodista en
    Quito ... familias con bebés caminando" is about the families, not the press; but
    "somos una red de jornaleros, ¿qué objetivo?" has nothing else to go on."""
    if not topic.present or not _SELF_DESCRIPTION.search(unnamed):
        return topic
    rest = _topic(_SELF_DESCRIPTION.sub(" ", unnamed))[0]
    return rest if rest.present else topic


def _wants_in(folded: str, unnamed: str, topic: _Topic) -> bool:
    """Whether the member asks to join the Mechanism (register intent)."""
    if _REGISTER_BLOCK.search(folded):
        return False
    if _REGISTER.search(folded):
        return True
    mechanism = bool(_MECHANISM.search(folded))
    if _REGISTER_ENTER.search(folded) and mechanism:
        return True
    cue = _REGISTER_WEAK.search(unnamed)
    if cue is None:
        return False
    if mechanism or not topic.confident:
        return True
    # "quiero unirme a la lucha contra la xenofobia": joining a cause, not the Mechanism.
    tail = _CLAUSE_END.split(unnamed[cue.end() :], maxsplit=1)[0]
    if _content_stems(_tokens(tail)):
        return False
    # "We are a diaspora group. Can we participate?": the topic is who is asking.
    rest = _SELF_DESCRIPTION.sub(" ", _REGISTER_WEAK.sub(" ", unnamed))
    return not _topic(rest)[0].confident


def _topic_beats_tables(folded: str, unnamed: str, tables: list[str], topic: _Topic) -> bool:
    """Whether a question naming a table is really about a topic ("la mesa 2 ve lo de los
    polleros?") rather than about the table itself."""
    if set(tables) & {"LT", "TT"} or topic.best < _TOPIC_OVER_TABLE:
        return False
    if not _TABLE_SCOPE.search(unnamed):
        return True
    # "somos una red de jornaleros, ¿qué temas trata la mesa 1?": words before the table
    # are the member's context; only a topic after it ("... con las remesas") counts.
    start = next((i for i, (a, b) in enumerate(zip(folded, unnamed)) if a != b), len(folded))
    return _topic(unnamed[start:])[0].best >= _TOPIC_OVER_TABLE


def _understand(text: str) -> Understanding:
    raw = text[:_MAX_CHARS]
    folded = _spell_out(fold(raw))
    tokens = _tokens(folded)
    language = _language(tokens, raw)
    if not tokens:
        return Understanding("unknown", language=language)
    folded = _fix_cue_typos(_LONG_RUN.sub(r"\1", _CURRENCY.sub(" dinero ", folded)))

    tables, unnamed = _table_mentions(folded)
    topic, stems = _topic(unnamed)
    asked = _objective_numbers(folded, stems)
    numbers = [n for n in asked if 1 <= n <= 23]

    def topic_result(intent: str) -> Understanding:
        objectives = tuple(numbers) or (topic.top if topic.confident else ())
        return Understanding(
            intent,
            objectives=objectives,
            tables=tuple(dict.fromkeys([*tables, *_tables_for(objectives)])),
            confident=True,
            language=language,
        )

    if _ADVERT.search(folded) and not (asked or tables):
        return Understanding("unknown", language=language)
    if _THANKS.search(folded) and not _QUESTION.search(folded):
        return Understanding("help", confident=True, language=language)
    if _wants_in(folded, unnamed, topic):
        if not (_WHICH_TABLE.search(folded) and topic.confident and not tables):
            return topic_result("register")
    if _MEETINGS.search(folded) or (
        _MEETINGS_WEAK.search(unnamed) and not (topic.present or asked)
    ):
        return topic_result("meetings")

    if asked:
        return Understanding(
            "objective",
            objectives=tuple(numbers),
            tables=_tables_for(numbers),
            confident=bool(numbers),
            language=language,
        )
    if tables and not _topic_beats_tables(folded, unnamed, tables, topic):
        return Understanding("table", tables=tuple(tables), confident=True, language=language)
    # "Hola, soy periodista en Quito ... ¿qué objetivo aplica?": a greeting that opens a
    # question about a topic is not small talk.
    small_talk = bool(_GREETING.search(folded) or _BOT_HELP.search(folded)) and not (
        _ASKS_TOPIC.search(folded)
    )
    if topic.present and (topic.confident or not small_talk):
        topic = _beyond_self_description(unnamed, topic)
        return Understanding(
            "objective",
            objectives=topic.top,
            tables=_tables_for(topic.top),
            confident=topic.confident,
            language=language,
        )
    if _BOT_HELP.search(folded):
        return Understanding("help", confident=True, language=language)
    if _TABLE_LIST.search(folded):
        return Understanding("table", confident=True, language=language)
    if _OBJECTIVE_LIST.search(folded):
        return Understanding("objective", confident=True, language=language)
    if small_talk or _HELP_WORD.search(folded):
        return Understanding("help", confident=True, language=language)
    return Understanding("unknown", language=language)
