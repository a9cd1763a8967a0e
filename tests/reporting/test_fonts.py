"""Finding a CJK font, the CSS font stack, and the matplotlib report style."""

from __future__ import annotations

import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest

import survchurn._fonts as fonts
from survchurn._fonts import FontInfo, css_font_stack, find_cjk_font
from survchurn.exceptions import ConfigError, DependencyError
from survchurn.plotting._style import register_font, report_rc, use_report_style
from survchurn.reporting.document import Figure


@pytest.fixture
def cjk() -> FontInfo:
    try:
        return find_cjk_font()
    except DependencyError as exc:
        pytest.skip(str(exc))


def test_system_cjk_font_is_found(cjk, monkeypatch):
    assert cjk.path.is_file()
    assert cjk.family in fonts.CJK_FAMILIES or "CJK" in cjk.family
    # an explicit path (here: the same file) gives the Simplified Chinese face of a collection
    monkeypatch.delenv("SURVCHURN_CJK_FONT", raising=False)
    assert find_cjk_font(cjk.path).family == cjk.family
    monkeypatch.setenv("SURVCHURN_CJK_FONT", str(cjk.path))
    assert find_cjk_font().path == cjk.path.resolve()


def test_configured_font_must_exist(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"CJK font file .*nope.otf.* \(from font_path\) does not exist"):
        find_cjk_font(tmp_path / "nope.otf")
    monkeypatch.setenv("SURVCHURN_CJK_FONT", str(tmp_path / "gone.ttf"))
    with pytest.raises(ConfigError, match=r"\(from SURVCHURN_CJK_FONT\) does not exist"):
        find_cjk_font()


def test_no_cjk_font_says_what_to_install(monkeypatch):
    monkeypatch.delenv("SURVCHURN_CJK_FONT", raising=False)
    monkeypatch.setattr(fonts, "_search_system", lambda: None)
    with pytest.raises(DependencyError, match=r"No Chinese \(CJK\) font found for lang='zh'.*"
                                              r"apt-get install fonts-noto-cjk"):
        find_cjk_font()
    with pytest.raises(DependencyError, match=r"fonts-noto-cjk"):
        css_font_stack("zh")
    assert css_font_stack("en").endswith("sans-serif")  # English needs no CJK font


def test_css_font_stack(cjk):
    stack = css_font_stack("zh", cjk)
    assert stack.startswith(f'"{cjk.family}", ') and stack.endswith(", sans-serif")
    with pytest.raises(ConfigError, match=r"font family name 'Evil\"; \}' contains characters"):
        css_font_stack("zh", FontInfo(family='Evil"; }', path=cjk.path))


def test_style_is_restored_and_validates():
    before = dict(mpl.rcParams)
    with use_report_style("en"):
        assert mpl.rcParams["svg.fonttype"] == "path"
        assert mpl.rcParams["axes.spines.top"] is False
    assert dict(mpl.rcParams) == before
    with pytest.raises(ConfigError, match=r"report language 'xx' is not supported"):
        report_rc("xx")


def test_chinese_figure_has_no_missing_glyphs(cjk):
    assert register_font(cjk.path) == register_font(cjk.path)  # idempotent
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail the test
        with use_report_style("zh"):
            assert mpl.rcParams["font.family"][0] == cjk.family
            fig, ax = plt.subplots()
            ax.set_title("留存曲线 −1")
            ax.plot([0, 1], [1, -1], label="新客户期")
            ax.legend()
            figure = Figure(fig)
            plt.close(fig)
    assert figure.mime == "image/svg+xml"
