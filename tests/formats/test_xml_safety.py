"""The three XML readers refuse the same attacks: mkvxml (chapterkit/formats/_xmltree.py, expat
with entity declarations refused) and psc, fcpxml (defusedxml). Each attack is one line of error
naming the refusal, never an expansion or a fetch."""

from __future__ import annotations

import pytest

from chapterkit import formats
from chapterkit.errors import SourceError

ATTACKS = {
    "billion_laughs": '<!DOCTYPE {root} [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    "external_entity": '<!DOCTYPE {root} [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    "parameter_entity": '<!DOCTYPE {root} [<!ENTITY % p "<!ENTITY e \'boom\'>"> %p;]>',
    "external_parameter_entity": '<!DOCTYPE {root} [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
}
DOCUMENTS = {
    "mkvxml": ("Chapters", "<Chapters><EditionEntry><ChapterAtom><ChapterTimeStart>00:00:00.000</ChapterTimeStart>"
                           "<ChapterDisplay><ChapterString>&{entity};</ChapterString></ChapterDisplay></ChapterAtom>"
                           "</EditionEntry></Chapters>"),
    "psc": ("psc:chapters", '<psc:chapters xmlns:psc="http://podlove.org/simple-chapters" version="1.2">'
                            '<psc:chapter start="0" title="&{entity};"/></psc:chapters>'),
    "fcpxml": ("fcpxml", '<fcpxml version="1.9"><library><event><project name="&{entity};"><sequence>'
                         '<spine/></sequence></project></event></library></fcpxml>'),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("reader", sorted(DOCUMENTS))
def test_every_xml_reader_refuses_entity_attacks(reader, attack):
    root, body = DOCUMENTS[reader]
    entity = "e" if "entity" in attack else "c"
    text = ATTACKS[attack].format(root=root) + body.format(entity=entity)
    with pytest.raises(SourceError) as refused:
        formats.parse(text, reader)
    message = str(refused.value)
    assert "\n" not in message and "root:" not in message and "aaaaaaaaaa" not in message
    assert "entit" in message.lower()
