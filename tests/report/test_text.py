from results_fixture import fixed_report

from npverify.report.text import render_report


def test_text_report_matches_golden(golden):
    report, _, _ = fixed_report()
    golden("report.txt", render_report(report))


def test_str_of_report_is_the_text_rendering():
    report, _, _ = fixed_report()
    assert str(report) == render_report(report)
    assert str(report.results[0]).startswith("REFUTED  only shop reaches the api  (only, invariants.yaml:5:5)")


def test_summary_counts_every_verdict():
    report, _, _ = fixed_report()
    assert render_report(report).rstrip().splitlines()[-1] == "4 invariants: 1 proved, 2 refuted, 1 unknown (1.52 s)"
