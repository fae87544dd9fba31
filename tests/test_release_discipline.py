"""Release discipline: the ontology's version follows the package version, and the changelog has an entry for it."""
from __future__ import annotations

import re

import pytest
from rdflib import OWL, RDF, URIRef

from carnk_graph import __version__
from carnk_graph.namespaces import ONTOLOGY_IRI, version_iri
from carnk_graph.project import find_project
from carnk_graph.sources import parse_graph

RELEASE_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$", re.MULTILINE)
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


@pytest.fixture(scope="module")
def ontology(project_root):
    return parse_graph(find_project(project_root).ontology)


@pytest.fixture(scope="module")
def changelog(project_root) -> str:
    return (project_root / "CHANGELOG.md").read_text(encoding="utf-8")


def test_there_is_one_ontology_header(ontology):
    assert list(ontology.subjects(RDF.type, OWL.Ontology)) == [URIRef(ONTOLOGY_IRI)]


def test_the_version_iri_follows_the_package_version(ontology):
    assert list(ontology.objects(URIRef(ONTOLOGY_IRI), OWL.versionIRI)) == [URIRef(version_iri(__version__))]


def test_the_version_info_is_the_package_version(ontology):
    assert [str(v) for v in ontology.objects(URIRef(ONTOLOGY_IRI), OWL.versionInfo)] == [__version__]


def test_the_release_carries_the_same_version(release_graphs):
    g = release_graphs["ontology"]
    assert (URIRef(ONTOLOGY_IRI), OWL.versionIRI, URIRef(version_iri(__version__))) in g


def test_the_changelog_opens_with_unreleased_then_the_current_version(changelog):
    versions = [m.group("version") for m in RELEASE_HEADING.finditer(changelog)]
    assert versions[:2] == ["Unreleased", __version__]


def test_every_released_version_has_a_date_and_appears_once(changelog):
    released = [m for m in RELEASE_HEADING.finditer(changelog) if m.group("version") != "Unreleased"]
    assert released and all(m.group("date") for m in released)
    names = [m.group("version") for m in released]
    assert len(names) == len(set(names))


def test_changelog_subsections_use_the_keep_a_changelog_names(changelog):
    used = re.findall(r"^### (.+?)\s*$", changelog, re.MULTILINE)
    assert used and set(used) <= set(SECTIONS)
