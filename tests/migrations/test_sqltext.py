"""Statement splitting: psql's boundaries and each statement's line."""

from __future__ import annotations

from workbench.core.migrations.sqltext import split_statements, tokenize

SCRIPT = """-- header; with a semicolon
create table t (id int); /* block /* nested; */ still; */
create function f() returns int language plpgsql as $fn$ begin return 1; end $fn$;
select E'it\\'s; ok', 'a''b;', "we;ird" from t;
do $$ begin raise notice 'x;'; end $$;
create function g() returns int language sql
begin atomic
    select 1;
    select case when true then 2 end;
end;
create rule r as on insert to t do also (select 1; select 2);
select U&"d;x", a$b$c, $1 from t;;
"""


def test_statements_split_where_psql_splits_them() -> None:
    statements = split_statements(SCRIPT)
    assert [s.line for s in statements] == [2, 3, 4, 5, 6, 11, 12]
    assert statements[0].text == "create table t (id int)"
    assert statements[1].text.endswith("end $fn$")
    assert statements[2].text.startswith("select E'it\\'s; ok'")
    assert statements[4].text.endswith("end")  # BEGIN ATOMIC body kept whole
    assert statements[5].text.endswith("(select 1; select 2)")
    assert statements[6].text.startswith('select U&"d;x"')


def test_line_of_a_server_error_position() -> None:
    text = "\n\ncreate table ok (id int);\n\ncreate\n  tabel bad (id int);\n"
    second = split_statements(text)[1]
    position = second.text.index("tabel") + 1  # the server's 1-based character position
    assert second.line == 5
    assert second.line_at(position) == 6


def test_unterminated_quote_goes_to_the_last_statement() -> None:
    statements = split_statements("select 1;\nselect 'open;\nselect 2;\n")
    assert len(statements) == 2
    assert statements[1].line == 2


def test_words_and_names() -> None:
    tokens = tokenize('ALTER TABLE "Mixed"."Case" add column x int')
    assert [t.word for t in tokens[:2]] == ["ALTER", "TABLE"]
    assert [t.name for t in tokens[2:5]] == ["Mixed", None, "Case"]


def test_a_comment_ends_at_a_carriage_return_as_on_the_server() -> None:
    words = [t.text for t in tokenize("select 1 -- note\rdrop table t;") if t.kind == "word"]
    assert words == ["select", "drop", "table", "t"]
