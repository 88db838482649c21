"""``%load_ext kepler`` in an in-process IPython: the magics, their SPL-style arguments, the
short display of Kepler errors, and ``%kepler`` running the CLI without killing the kernel."""

from __future__ import annotations

import inspect
import subprocess
import sys

import kepler
import pytest
from kepler.errors import KeplerError
from kepler.jupyter import args
from notebook_examples import QUERIES, NotebookPlugin

# --- argument parsing (no IPython needed) ------------------------------------------------------


def test_options_read_spl_style_with_leading_dashes_and_types():
    assert args.parse_options('earliest=-1h latest=now out=x cache=false chunks=4 name="a b"') == {
        "earliest": "-1h", "latest": "now", "out": "x", "cache": False, "chunks": 4,
        "name": "a b"}


def test_a_bare_word_in_the_options_is_refused_with_an_example():
    with pytest.raises(KeplerError, match="options are key=value") as caught:
        args.parse_options("earliest=-1h --foo")
    assert "earliest=-24h" in (caught.value.hint or "")


def test_substitution_uses_the_namespace_and_leaves_spl_tokens_alone():
    ns = {"index": "pumps", "n": 5}
    text = args.substitute("index=$index | head ${n} | eval x=\"$tok$\" | eval c=\"$$\"", ns)
    assert text == 'index=pumps | head 5 | eval x="$tok$" | eval c="$"'
    with pytest.raises(KeplerError, match=r"\$missing is not defined"):
        args.substitute("index=$missing", ns)


def test_a_line_takes_known_options_then_the_query_or_anything_before_the_separator():
    assert args.split_line("earliest=-1h out=y index=main | stats count") == (
        {"earliest": "-1h", "out": "y"}, "index=main | stats count")
    assert args.split_line("parallel=4 earliest=-7d -- index=main") == (
        {"parallel": 4, "earliest": "-7d"}, "index=main")


def test_out_must_be_a_python_name_and_the_query_not_empty():
    with pytest.raises(KeplerError, match="not a Python name"):
        args.parse("out=1x", "index=main", {})
    with pytest.raises(KeplerError, match="query is empty"):
        args.parse("earliest=-1h", "  ", {})


def test_import_kepler_offers_the_extension_without_importing_ipython():
    code = ("import sys, kepler; kepler.load_ipython_extension; "
            "assert 'IPython' not in sys.modules, 'IPython imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- in-process IPython ------------------------------------------------------------------------


@pytest.fixture
def ip(kepler_plugin):
    pytest.importorskip("IPython")
    from IPython.testing.globalipapp import get_ipython
    from kepler.jupyter.errors import DEBUG

    kepler_plugin(NotebookPlugin(), name="notebook")
    shell = get_ipython()  # one shell per process, started on first use
    shell.run_line_magic("load_ext", "kepler")
    kepler.load_ipython_extension(shell)  # again: this test's plugins are registered now
    QUERIES.clear()
    try:
        yield shell
    finally:
        DEBUG.on = False
        kepler.unload_ipython_extension(shell)


def test_the_query_magic_binds_out_and_passes_spl_style_options(ip):
    ip.user_ns["word"] = "pumps"
    result = ip.run_cell("%%eql earliest=-1h latest=now out=rows cache=false chunks=3\n"
                         "search $word | head 5\n")
    assert result.success, result.error_in_exec
    assert QUERIES == [("search pumps | head 5",
                        {"earliest": "-1h", "latest": "now", "cache": False, "chunks": 3})]
    assert ip.user_ns["rows"] == [{"query": "search pumps | head 5"}]
    shown = result.result._repr_html_()
    assert "rows: 1 rows from echo" in shown and "echo-1" in shown


def test_the_line_magic_defaults_out_to_df(ip):
    result = ip.run_cell("%eql earliest=-15m index=main | stats count by $$x")
    assert result.success, result.error_in_exec
    assert QUERIES == [("index=main | stats count by $x", {"earliest": "-15m"})]
    assert ip.user_ns["df"][0]["query"] == "index=main | stats count by $x"
    assert "df: 1 rows from echo" in repr(result.result)


def test_a_kepler_error_shows_message_and_hint_without_traceback(ip, capsys):
    result = ip.run_cell("%eql index=$nowhere")
    assert isinstance(result.error_in_exec, KeplerError)  # the cell still fails
    out = capsys.readouterr().out
    assert "KeplerError: $nowhere is not defined in the notebook." in out
    assert "Hint: Assign it first" in out and "Traceback" not in out


def test_kepler_debug_on_restores_the_traceback(ip, capsys):
    assert ip.run_cell("%kepler_debug on").success
    ip.run_cell("import kepler as kp\nkp.train.no_such_trainer")
    out = capsys.readouterr().out
    assert "Traceback" in out and "no_such_trainer does not exist" in out
    ip.run_cell("%kepler_debug off")
    ip.run_cell("kp.train.no_such_trainer")
    assert "Traceback" not in capsys.readouterr().out


def test_kepler_runs_cli_commands_in_process_and_survives_their_exits(ip, capsys):
    assert ip.run_cell("%kepler plugins list --json").success
    assert '"kepler-core"' in capsys.readouterr().out
    assert ip.run_cell("%kepler --help").success  # click's exit 0 is not SystemExit
    failed = ip.run_cell("%kepler no-such-command")
    assert isinstance(failed.error_in_exec, KeplerError)
    assert "No such command" in capsys.readouterr().out
    assert ip.run_cell("1 + 1").result == 2  # the kernel lives on


def test_kepler_magics(kepler_plugin):
    """A plugin's magic from the ``kepler_magics`` hook is among what the extension registers
    (checked without IPython: the record and its import string)."""
    from kepler.jupyter.magics import contributed

    kepler_plugin(NotebookPlugin(), name="notebook")
    found = {name: (kind, function) for kind, name, function in contributed(shell=None)}
    kind, shout = found["shout"]
    assert kind == "line_cell" and shout("hello") == "HELLO"
    assert {"kepler", "kepler_debug", "eql"} <= set(found)


def test_a_plugin_magic_runs_as_line_and_cell(ip):
    assert ip.run_line_magic("shout", "hello") == "HELLO"
    assert ip.run_cell_magic("shout", "", "cell body") == "CELL BODY"


def test_a_trainer_record_signature_documents_kp_train(ip):
    toy = kepler.train.toy
    params = inspect.signature(toy).parameters
    assert list(params) == ["data", "target", "alpha", "save", "force", "params"]
    assert params["alpha"].default == 1.0
    assert toy.__doc__.startswith("A toy trainer.") and "smooths" in toy.__doc__


# --- rich display --------------------------------------------------------------------------------


def test_a_card_escapes_what_servers_and_data_put_in_it():
    from kepler.display import Card

    card = Card("<b>x</b>").add("url", "https://h/<p>").add("empty", None)
    card.table("top", ["a"], [[0.123456]])
    shown = card.html()
    assert "&lt;b&gt;x&lt;/b&gt;" in shown and "<b>x</b>" not in shown
    assert 'href="https://h/&lt;p&gt;"' in shown and "empty" not in shown and "0.1235" in shown
    assert card.text().splitlines()[:2] == ["<b>x</b>", "  url  https://h/<p>"]


def test_a_deployment_shows_url_status_and_traffic():
    from kepler.records import Deployment

    deployment = Deployment(name="pumps", target="cloud-run", model="pump-failure", version="3",
                            url="https://pumps.run.app", status="ready",
                            details={"traffic": "r3 90%, r2 10%", "region": "europe-west1",
                                     "nested": {"ignored": True}})
    shown = deployment._repr_html_()
    assert "Deployment pumps (cloud-run)" in shown and "pump-failure v3" in shown
    assert "https://pumps.run.app" in shown and "r3 90%, r2 10%" in shown
    assert "europe-west1" in shown and "ignored" not in shown


def test_tab_completion_and_shift_tab_see_plugin_names_and_keywords(ip):
    """What Jupyter asks the kernel: completions (``Completer.completions``, as ipykernel's
    do_complete) and the inspection Shift-Tab shows (``object_inspect``)."""
    from IPython.core.completer import provisionalcompleter

    ip.run_cell("import kepler as kp")
    with provisionalcompleter():
        assert "toy" in [c.text for c in ip.Completer.completions("kp.train.to", 11)]
        assert "double" not in [c.text for c in ip.Completer.completions("kp.train.do", 11)]
        assert "%eql" in [c.text for c in ip.Completer.completions("%eq", 3)]
    info = ip.object_inspect("kp.train.toy")
    assert "alpha: 'float' = 1.0" in info["definition"] and "smooths" in info["docstring"]


def test_a_catalogued_query_magic_without_its_plugin_says_what_to_install(ip, capsys):
    """``%%spl`` where kepler-splunk is missing or disabled names the distribution to install
    (or the plugin to enable) instead of IPython's "magic not found"."""
    from kepler.plugins import reset

    ip.run_cell("%kepler plugins disable splunk")  # where it is installed; an error otherwise
    reset()
    kepler.load_ipython_extension(ip)
    capsys.readouterr()
    result = ip.run_cell("%%spl earliest=-1h\nindex=main")
    assert isinstance(result.error_in_exec, KeplerError)
    out = capsys.readouterr().out
    assert "kepler-splunk" in out and "Traceback" not in out
