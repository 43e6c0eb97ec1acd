from html.parser import HTMLParser

from results_fixture import fixed_report


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in_cell = [], False

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells[-1] += data


def test_report_html_is_a_table_with_one_row_per_invariant():
    report, _, _ = fixed_report()
    parser = _Cells()
    parser.feed(report._repr_html_())
    assert parser.cells[:5] == ["invariant", "kind", "verdict", "packet and reason", "time"]
    rows = [parser.cells[i : i + 5] for i in range(5, len(parser.cells), 5)]
    assert [(r[0], r[2]) for r in rows] == [
        ("only shop reaches the api", "REFUTED"),
        ("the internet reaches the api", "REFUTED"),
        ("dev is isolated", "PROVED"),
        ("a slow one", "UNKNOWN"),
    ]
    assert "namespace staging" in rows[0][3]


def test_html_escapes_names():
    import attrs

    report, _, _ = fixed_report()
    result = report.results[2]
    evil = attrs.evolve(result, invariant=attrs.evolve(result.invariant, name="<script>x</script>"))
    assert "<script>" not in evil._repr_html_()
