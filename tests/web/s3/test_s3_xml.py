"""The S3 endpoint's own XML writer answers exactly what ElementTree would have written."""

import random
import xml.etree.ElementTree as ET

from web.s3 import xml

CHARS = "ab<>&\"'\r\n\t ລາວ😀%+#?"


def test_documents_are_written_byte_for_byte_as_elementtree_writes_them():
    rng = random.Random(13)

    def text() -> str | None:
        return rng.choice([None, "", "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 8)))])

    def fill(element, depth: int) -> None:
        for _ in range(rng.randint(0, 4)):
            child = xml.add(element, rng.choice(["Key", "Prefix", "Contents", "Owner"]), text())
            if rng.random() < 0.3:
                child.set("Name", "".join(rng.choice(CHARS) for _ in range(5)))
            if depth < 3:
                fill(child, depth + 1)

    for n in range(500):
        root = xml.document("ListBucketResult", namespace=n % 2 == 0)
        fill(root, 0)
        elementtree = (xml.DECLARATION + ET.tostring(root, encoding="unicode")).encode()
        assert xml.serialize(root) == elementtree


def test_a_listing_key_with_markup_and_lao_is_escaped():
    root = xml.document("ListBucketResult")
    xml.add(xml.add(root, "Contents"), "Key", 'ລາຍງານ <2026> & "ສະບັບ".txt')
    xml.add(root, "Prefix", "")
    assert xml.serialize(root).decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        '<Contents><Key>ລາຍງານ &lt;2026&gt; &amp; "ສະບັບ".txt</Key></Contents><Prefix />'
        "</ListBucketResult>"
    )
