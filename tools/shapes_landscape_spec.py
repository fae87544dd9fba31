"""The landscape's shapes (shapes/programmes.ttl): clinical figures, dose levels, toxicity counts and the
rationales of gene edits. Read by tools/generate_shapes.py, which writes the shapes and their fixtures from it.

Impossible numbers are SPARQL rules on the node shapes (each with its own invalid-<rule>.ttl fixture):
more responders than patients, a percentage outside 0-100, a grade outside the 1-5 scale.
"""
from __future__ import annotations

C = "https://w3id.org/carnk/"
LOCATOR = ("locator", "carnk:locator", 'carnk:locator "table 2"',
           "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ; sh:minLength 1",
           "says where in its source it stands (exactly one carnk:locator, such as abstract or table 2)", "drop")


def figure_base(*extra: str) -> list[str]:
    """What every valid figure fixture carries: label, source, study, locator (the ClinicalFigure rules)."""
    return ['rdfs:label "fixture focus"@en', "carnk:source ex:src", "carnk:study ex:study",
            'carnk:locator "table 2"', *extra]


def add_landscape(SPEC: dict, TOPIC_TITLES: dict, prop, std) -> None:
    TOPIC_TITLES["programmes"] = ("clinical programmes: figures (responses, survival, patient counts), "
                                  "dose levels, toxicity counts and why products carry their gene edits")
    SPEC["programmes"] = [
        dict(cls="ClinicalFigure", label="clinical figure", target="sh:targetClass carnk:ClinicalFigure",
             what="A clinical figure", focus_type="carnk:ClinicalFigure",
             base=figure_base("carnk:numerator 8", "carnk:denominator 11", "carnk:percentage 72.7",
                              "carnk:timePointValue 30.0", "carnk:timePointUnit carnk:Day"),
             sparql=[
                 ("numeratorWithinDenominator",
                  "counts no more patients with the outcome than it counts patients (numerator at most the denominator)",
                  f"""SELECT $this ?value WHERE {{
    $this <{C}numerator>|<{C}patientsWithOutcome> ?value .
    $this <{C}denominator>|<{C}patientsEvaluated> ?denominator .
    FILTER (?value > ?denominator)
}}"""),
                 ("percentageInRange",
                  "gives a percentage between 0 and 100",
                  f"""SELECT $this ?value WHERE {{
    $this <{C}percentage> ?value .
    FILTER (?value < 0 || ?value > 100)
}}"""),
                 ("located",
                  "says where in its source it stands (a non-empty carnk:locator), unless it restates a numbered statement of the overview (older clinical outcome nodes are held to this by the provenance rules instead)",
                  f"""SELECT $this ($this AS ?value) WHERE {{
    FILTER NOT EXISTS {{ $this <{C}locator> ?locator FILTER (STRLEN(STR(?locator)) > 0) }}
    FILTER NOT EXISTS {{ $this <{C}statement> ?statement }}
    FILTER NOT EXISTS {{ $this a <{C}ClinicalOutcome> }}
}}"""),
             ],
             node_breaks={
                 "numeratorWithinDenominator": [("set", "carnk:numerator 12")],
                 "percentageInRange": [("set", "carnk:percentage 120.5")],
                 "located": [("set", 'carnk:locator ""')],
             },
             props=std(
                 prop("study", "carnk:study", "carnk:study ex:study",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ClinicalStudy",
                      "names exactly one clinical study", "drop"),
                 prop("timePointUnit", "carnk:timePointUnit", "carnk:timePointUnit carnk:Day",
                      "sh:maxCount 1 ; sh:class carnk:TimeUnit",
                      "gives its time point in one time unit (day, week, month or year)",
                      ("set", 'carnk:timePointUnit "day"')))),
        dict(cls="ResponseFigure", label="response figure", target="sh:targetClass carnk:ResponseFigure",
             what="A response figure", focus_type="carnk:ResponseFigure",
             base=figure_base("carnk:figureKind ex:endpoint", "carnk:numerator 5", "carnk:denominator 9"),
             sparql=[
                 ("countOrPercentage",
                  "gives how many patients reached the endpoint, as a count or as a percentage",
                  f"""SELECT $this ($this AS ?value) WHERE {{
    FILTER NOT EXISTS {{ $this <{C}numerator>|<{C}patientsWithOutcome>|<{C}percentage> ?number }}
}}"""),
             ],
             node_breaks={"countOrPercentage": [("drop", "carnk:numerator 5")]},
             props=[
                 prop("endpoint", "[ sh:alternativePath ( carnk:figureKind carnk:endpoint ) ]",
                      "carnk:figureKind ex:endpoint",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ClinicalEndpoint",
                      "names exactly one response endpoint (carnk:figureKind or carnk:endpoint)", "drop"),
             ]),
        dict(cls="SurvivalFigure", label="survival figure", target="sh:targetClass carnk:SurvivalFigure",
             what="A survival figure", focus_type="carnk:SurvivalFigure",
             base=figure_base("carnk:figureKind ex:endpoint", "carnk:percentage 68.0",
                              "carnk:timePointValue 1.0", "carnk:timePointUnit carnk:Year"),
             sparql=[
                 ("rateOrMedian",
                  "gives either a percentage at a time point or a median with its unit",
                  f"""SELECT $this ($this AS ?value) WHERE {{
    FILTER NOT EXISTS {{ $this <{C}percentage> ?p ; <{C}timePointValue> ?t ; <{C}timePointUnit> ?tu }}
    FILTER NOT EXISTS {{ $this <{C}medianValue> ?m ; <{C}medianUnit> ?mu }}
}}"""),
             ],
             node_breaks={"rateOrMedian": [("drop", "carnk:percentage 68.0")]},
             props=[
                 prop("figureKind", "carnk:figureKind", "carnk:figureKind ex:endpoint",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ClinicalEndpoint",
                      "names exactly one survival endpoint (overall or progression-free survival)", "drop"),
             ]),
        dict(cls="PatientCountFigure", label="patient count figure", target="sh:targetClass carnk:PatientCountFigure",
             what="A patient count figure", focus_type="carnk:PatientCountFigure",
             base=figure_base(),
             props=[
                 prop("figureKind", "carnk:figureKind", "carnk:figureKind carnk:PatientsTreated",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:PatientCountKind",
                      "says what it counts (patients enrolled, treated or evaluable)", "drop"),
                 prop("patientCount", "carnk:patientCount", "carnk:patientCount 9",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minInclusive 0",
                      "gives exactly one patient count, a whole number of at least 0", "drop"),
             ]),
        dict(cls="DoseLevel", label="dose level", target="sh:targetClass carnk:DoseLevel",
             what="A dose level", focus_type="carnk:DoseLevel",
             props=std(
                 prop(*LOCATOR),
                 prop("study", "carnk:study", "carnk:study ex:study",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ClinicalStudy",
                      "names exactly one clinical study", "drop"),
                 prop("doseAmount", "carnk:doseAmount", "carnk:doseAmount 10000000.0",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:minExclusive 0",
                      "gives exactly one number of cells, more than 0", ("set", "carnk:doseAmount -1.5")),
                 prop("doseUnit", "carnk:doseUnit", 'carnk:doseUnit "cells"',
                      'sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ; sh:pattern "^cells(/kg)?$"',
                      "says whether its amount is cells per dose (cells) or per kilogram of body weight (cells/kg)",
                      ("set", 'carnk:doseUnit "million cells"')))),
        dict(cls="ToxicityCount", label="toxicity count",
             target="sh:targetSubjectsOf carnk:minimumGrade , carnk:maximumGrade",
             what="A toxicity finding with a grade range", focus_type="carnk:ToxicityAssociation",
             base=['rdfs:label "fixture focus"@en', "carnk:source ex:src", "carnk:therapyType ex:therapy",
                   "carnk:toxicity ex:toxicity", "carnk:frequencyLevel carnk:Observed", "carnk:study ex:study",
                   'carnk:locator "table 3"', "carnk:patientsAffected 2", "carnk:patientsAssessed 11",
                   "carnk:minimumGrade 1", "carnk:maximumGrade 2"],
             sparql=[
                 ("gradeOnScale",
                  "gives grades on the 1 to 5 toxicity grading scale",
                  f"""SELECT $this ?value WHERE {{
    $this <{C}minimumGrade>|<{C}maximumGrade> ?value .
    FILTER (?value < 1 || ?value > 5)
}}"""),
                 ("gradeRangeOrdered",
                  "gives a minimum grade no higher than its maximum grade",
                  f"""SELECT $this ?value WHERE {{
    $this <{C}minimumGrade> ?value ; <{C}maximumGrade> ?maximum .
    FILTER (?value > ?maximum)
}}"""),
             ],
             node_breaks={
                 "gradeOnScale": [("set", "carnk:maximumGrade 7")],
                 "gradeRangeOrdered": [("set", "carnk:minimumGrade 3")],
             },
             props=[]),
        dict(cls="ModificationRationale", label="modification rationale",
             target="sh:targetClass carnk:ModificationRationale",
             what="A modification rationale", focus_type="carnk:ModificationRationale",
             props=std(
                 prop(*LOCATOR),
                 prop("modification", "carnk:modification", "carnk:modification carnk:CISHKnockout",
                      "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:GeneticModification",
                      "names exactly one genetic modification", "drop"),
                 prop("purpose", "carnk:purpose", 'carnk:purpose "to release a brake on IL-15 signalling"@en',
                      "sh:minCount 1", "says what the modification is for (carnk:purpose)", "drop"))),
    ]
