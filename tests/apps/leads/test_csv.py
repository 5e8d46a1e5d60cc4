"""Reading a CSV of leads, without a server: every bad row by its line."""

from __future__ import annotations

import pytest

from relevo.apps.leads.csv_import import (
    MAX_ROWS,
    CsvProblem,
    clean_lead,
    normalize_phone,
    parse_leads_csv,
)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("987 654 321", "987654321"),
        ("(01) 445-2210", "014452210"),
        ("+51 912 004 556", "+51912004556"),
        ("12", None),
        ("98765x321", None),
        ("1234567890123456", None),
    ],
)
def test_normalize_phone(text: str, phone: str | None) -> None:
    assert normalize_phone(text) == phone


def test_headers_are_matched_without_case_or_accents_and_any_separator() -> None:
    for sep in (",", ";", "\t"):
        data = sep.join(["Cliente", "Teléfono", "DNI", "CAMPAÑA", "Origen", "Extra"]) + "\n"
        data += sep.join(["Ana", "987654321", "45871236", "Fibra", "Web", "x"]) + "\n"
        parsed = parse_leads_csv(data.encode())
        assert parsed.errors == []
        assert parsed.ignored_columns == ["Extra"]
        assert parsed.rows == [
            (
                2,
                {
                    "nombre": "Ana",
                    "telefono": "987654321",
                    "documento": "45871236",
                    "campana": "Fibra",
                    "fuente": "Web",
                },
            ),
        ]


def test_excel_windows_1252_and_quoted_fields() -> None:
    data = 'nombre;telefono\n"Núñez; Ríos";987654321\n"Dos\nlíneas";912345678\nÑandú;999888777\n'
    parsed = parse_leads_csv(data.encode("cp1252"))
    assert [(line, r["nombre"]) for line, r in parsed.rows] == [
        (2, "Núñez; Ríos"),
        (4, "Dos líneas"),  # a quoted newline: the next row is line 5
        (5, "Ñandú"),
    ]


def test_every_bad_row_is_reported_by_its_line() -> None:
    data = (
        "nombre,telefono,documento,campana\n"
        ",987654321,,\n"
        "Ana,12,,\n"
        "Luis,912345678,ABC,\n"
        "Eva,912345678,45871236,\n"
        "Eva Dos,999 888 777,45871236,\n"
        f"{'x' * 121},955555555,,\n"
        "Demasiadas,955555556,,,extra\n"
        "\n"
        "Bien,955555557,,\n"
    )
    parsed = parse_leads_csv(data.encode())
    assert [(e.line, e.field, e.code) for e in parsed.errors] == [
        (2, "nombre", "missing"),
        (3, "telefono", "invalid"),
        (4, "documento", "invalid"),
        (6, "documento", "duplicate"),
        (7, "nombre", "too_long"),
        (8, None, "invalid"),
    ]
    assert [line for line, _ in parsed.rows] == [5, 10]
    assert parsed.total == 8  # blank lines are not rows


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"telefono\n987654321\n", "bad_header"),
        (b"nombre,cliente,telefono\n", "bad_header"),
        (b"x" * (4 * 1024 * 1024 + 1), "too_large"),
        (b"nombre,telefono\n" + b"a,987654321\n" * (MAX_ROWS + 1), "too_many_rows"),
    ],
)
def test_file_level_problems(data: bytes, code: str) -> None:
    with pytest.raises(CsvProblem) as info:
        parse_leads_csv(data)
    assert info.value.code == code


def test_clean_lead_normalises() -> None:
    clean, errors = clean_lead(
        {
            "nombre": "  Ana   Pérez ",
            "telefono": "987-654-321",
            "documento": "ab12345",
            "campana": " Fibra  300 ",
        }
    )
    assert errors == []
    assert clean == {
        "nombre": "Ana Pérez",
        "telefono": "987654321",
        "documento": "AB12345",
        "campana": "Fibra 300",
    }
