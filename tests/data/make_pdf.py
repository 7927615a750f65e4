"""Writes guide_espace_public.pdf: a small two-page French report with a text layer (run once)."""

from __future__ import annotations

from pathlib import Path

PAGES = [
    [
        "Guide pour un espace public egalitaire",
        "Ce guide presente des methodes pour concevoir des rues, des places et des parcs",
        "ou les femmes et les filles se sentent en securite a toute heure.",
        "Les marches exploratoires reunissent des habitantes qui observent le quartier",
        "et signalent l'eclairage defaillant, les recoins et les passages isoles.",
    ],
    [
        "Resultats et recommandations",
        "Les villes qui ont adopte ces audits de securite ont ameliore l'eclairage,",
        "elargi les trottoirs et ajoute des bancs le long des trajets du quotidien.",
        "Le budget sensible au genre permet de suivre les depenses d'amenagement.",
    ],
]


def page_stream(lines: list[str]) -> bytes:
    ops = ["BT", "/F1 12 Tf", "14 TL", "50 780 Td"]
    for line in lines:
        ops.append(f"({line}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def build() -> bytes:
    objects: list[bytes] = []
    n_pages = len(PAGES)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    font_id = 3 + 2 * n_pages
    for i, lines in enumerate(PAGES):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        stream = page_stream(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


if __name__ == "__main__":
    Path(__file__).with_name("guide_espace_public.pdf").write_bytes(build())
