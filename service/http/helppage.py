"""The service's page for people: ``GET /`` (and ``GET /soap`` from a browser).

Like the ASMX service page: every operation with its documentation, its
request and response fields (types, limits, required or not), sample SOAP
1.1 and 1.2 envelopes, links to the WSDL and the SoapUI project, and a "try
it" form per operation that sends a real SOAP request from the browser and
shows the answer (an upload takes a file from a file picker, which fills in
the empty filename and content_type). Everything is in this one document
(styles and script inline), so it works offline and behind any proxy. It
is built once, from the same spyne types as the WSDL.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any, Final

from spyne import ByteArray, ComplexModelBase
from spyne.model.primitive import Boolean, DateTime, Integer

from service import ns
from service.contract import internals
from service.contract.wsdl import Operation
from service.http.xmlrpc import FAULT_CODES
from service.http.xmlrpc import PATH as XMLRPC_PATH
from service.imaging import TINY_PNG

#: Example values by field name, for the sample envelopes and the forms' placeholders.
EXAMPLES: Final = {
    "name": "Ada",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "age": "36",
    "timezone": "Europe/Paris",
    "filename": "pixel.png",
    "content_type": "image/png",
    "image_id": "4f9c2a0e6b1d4c3f9a7e5d2b1c0a9f8e",
    "page_size": "10",
    "page_token": "",
}
#: A real 1x1 PNG, the sample upload.


@dataclass(frozen=True)
class Field:
    path: str  # "person/first_name"
    name: str
    type_name: str
    rules: str
    required: bool
    repeated: bool
    binary: bool
    kind: str  # "text", "number", "boolean", "datetime", "file"
    depth: int
    structure: bool  # a complex type: a heading for its children


def fields(cls: Any, prefix: str = "", depth: int = 0) -> list[Field]:
    found: list[Field] = []
    for name, kind in internals.fields(cls).items():
        path = prefix + name
        attrs = kind.Attributes
        required = (attrs.min_occurs or 0) >= 1
        repeated = attrs.max_occurs > 1
        if issubclass(kind, ComplexModelBase):
            found.append(
                Field(
                    path,
                    name,
                    kind.get_type_name(),
                    "",
                    required,
                    repeated,
                    False,
                    "",
                    depth,
                    True,
                )
            )
            found += fields(kind, path + "/", depth + 1)
            continue
        binary = issubclass(kind, ByteArray)
        field_kind = (
            "file"
            if binary
            else "number"
            if issubclass(kind, Integer)
            else "boolean"
            if issubclass(kind, Boolean)
            else "datetime"
            if issubclass(kind, DateTime)
            else "text"
        )
        found.append(
            Field(
                path,
                name,
                _type_label(kind),
                _rules(kind),
                required,
                repeated,
                binary,
                field_kind,
                depth,
                False,
            )
        )
    return found


def _type_label(kind: Any) -> str:
    name = kind.get_type_name()
    base = kind.__extends__ if getattr(kind, "__extends__", None) is not None else None
    xsd = (base or kind).get_type_name() if base is not None else None
    return f"{name} ({xsd})" if xsd and xsd != name else str(name)


def _spyne_base(kind: Any) -> Any:
    """The spyne class a type customizes: its attributes are spyne's defaults, not the model's."""
    for klass in kind.__mro__:
        if klass.__module__.startswith("spyne.") and getattr(klass, "__orig__", None) is None:
            return klass
    return None


def _bound(value: Any) -> bool:
    """A real limit: not None, NaN or an infinity (spyne's "no limit")."""
    if value is None:
        return False
    if isinstance(value, (float, Decimal)):
        return value == value and abs(value) != float("inf")
    return True


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, time)) else str(value)


def _rules(kind: Any) -> str:
    """The constraints the model declares on a simple type, in words.

    Only what the model sets: an attribute equal to the default of the spyne type it
    customizes is spyne's (``DateTime`` always carries 0001-01-01 to 9999-12-31, a
    ``Unicode`` a max_len of infinity), not a rule of this contract.
    """
    attrs = kind.Attributes
    base = _spyne_base(kind)
    defaults = base.Attributes if base is not None else None

    def declared(name: str) -> Any:
        value = getattr(attrs, name, None)
        if defaults is not None and value == getattr(defaults, name, None):
            return None
        return value if _bound(value) else None

    rules = []
    min_len, max_len = declared("min_len"), declared("max_len")
    min_len = min_len if min_len else None  # a minimum of 0 characters is no rule
    if min_len is not None and max_len is not None:
        rules.append(f"{min_len} to {max_len} characters")
    elif max_len is not None:
        rules.append(f"at most {max_len} characters")
    elif min_len is not None:
        rules.append(f"at least {min_len} characters")
    ge, gt, le, lt = (declared(name) for name in ("ge", "gt", "le", "lt"))
    if ge is not None and le is not None:
        rules.append(f"{_text(ge)} to {_text(le)}")
    else:
        low = f"at least {_text(ge)}" if ge is not None else None
        low = f"more than {_text(gt)}" if gt is not None else low
        high = f"at most {_text(le)}" if le is not None else None
        high = f"less than {_text(lt)}" if lt is not None else high
        rules += [rule for rule in (low, high) if rule]
    pattern = declared("pattern")
    if pattern:
        rules.append(f"matches {pattern}")
    values = declared("values")
    if values:
        rules.append("one of " + ", ".join(sorted(str(v) for v in values)))
    return "; ".join(rules)


def _example(field: Field) -> str:
    if field.binary:
        return base64.b64encode(TINY_PNG).decode()
    if field.name in EXAMPLES:
        return EXAMPLES[field.name]
    return {"number": "1", "boolean": "true", "datetime": "2026-01-01T00:00:00Z"}.get(
        field.kind, "text"
    )


def sample_body(op: Operation) -> str:
    """The operation's request element with example values, indented."""
    lines = [f"    <tns:{op.name}>"]
    closing: list[tuple[int, str]] = []
    for field in fields(op.in_message):
        while closing and closing[-1][0] >= field.depth:
            depth, name = closing.pop()
            lines.append(f"{'  ' * (depth + 3)}</tns:{name}>")
        indent = "  " * (field.depth + 3)
        if field.structure:
            lines.append(f"{indent}<tns:{field.name}>")
            closing.append((field.depth, field.name))
        else:
            value = html.escape(_example(field), quote=False)
            lines.append(f"{indent}<tns:{field.name}>{value}</tns:{field.name}>")
    while closing:
        depth, name = closing.pop()
        lines.append(f"{'  ' * (depth + 3)}</tns:{name}>")
    if len(lines) == 1:
        return f"    <tns:{op.name}/>"
    lines.append(f"    </tns:{op.name}>")
    return "\n".join(lines)


def sample_envelope(op: Operation, version: str) -> str:
    env = ns.SOAP11_ENV if version == "1.1" else ns.SOAP12_ENV
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<soap:Envelope xmlns:soap="{env}" xmlns:tns="{ns.TNS}">\n'
        "  <soap:Body>\n"
        f"{sample_body(op)}\n"
        "  </soap:Body>\n"
        "</soap:Envelope>"
    )


_LIST_ITEM: Final = re.compile(r"(?:[-*]|(\d+)[.)])\s+")


def doc_html(text: str) -> str:
    """A docstring as HTML that flows with the page's width.

    The lines of a paragraph are joined (docstrings are wrapped at ~70
    characters); blank lines still separate paragraphs, a line starting with
    ``-``, ``*`` or ``1.`` starts a list item, and an indented paragraph (an
    example) keeps its lines.
    """
    blocks: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", text.strip("\n")):
        lines = paragraph.splitlines()
        if not any(line.strip() for line in lines):
            continue
        if all(line[:1] in (" ", "\t") for line in lines if line.strip()):
            blocks.append(f"<pre>{html.escape(_dedent(lines), quote=False)}</pre>")
            continue
        runs: list[tuple[str | None, str, list[str]]] = []  # (list type, start, item texts)
        for line in (line.strip() for line in lines):
            item = _LIST_ITEM.match(line)
            if item:
                list_tag = "ol" if item.group(1) else "ul"
                if not runs or runs[-1][0] != list_tag:
                    runs.append((list_tag, item.group(1) or "", []))
                runs[-1][2].append(line[item.end() :])
            elif runs:
                runs[-1][2][-1] += " " + line  # the text or the list item goes on
            else:
                runs.append((None, "", [line]))
        for tag, start, texts in runs:
            if tag is None:
                blocks.append(f"<p>{html.escape(texts[0], quote=False)}</p>")
            else:
                items = "".join(f"<li>{html.escape(t, quote=False)}</li>" for t in texts)
                first = f" start={start}" if tag == "ol" and start not in ("", "1") else ""
                blocks.append(f"<{tag}{first}>{items}</{tag}>")
    return "".join(blocks)


def _dedent(lines: Sequence[str]) -> str:
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


def _field_table(found: Sequence[Field]) -> str:
    if not found:
        return "<p class=none>No fields.</p>"
    rows = []
    for f in found:
        pad = f' style="padding-left:{0.4 + f.depth * 1.2}em"'
        occurs = ("required" if f.required else "optional") + (", repeated" if f.repeated else "")
        rows.append(
            f"<tr><td{pad}><code>{html.escape(f.name)}</code></td>"
            f"<td>{html.escape(f.type_name)}</td><td>{occurs}</td>"
            f"<td>{html.escape(f.rules)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>field</th><th>type</th><th>occurs</th><th>rules</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _form(op: Operation, anonymous: bool) -> str:
    inputs = []
    open_sets = 0  # fieldsets open for the structures above this field
    for f in fields(op.in_message):
        inputs += ["</fieldset>"] * (open_sets - f.depth)
        open_sets = min(open_sets, f.depth)
        if f.structure:
            open_sets += 1
            inputs.append(f"<fieldset><legend>{html.escape(f.name)}</legend>")
            continue
        label = html.escape(f.path)
        attrs = f'name="{label}" data-path="{label}" data-kind="{f.kind}"'
        if f.binary:
            control = f"<input type=file {attrs}{' required' if f.required else ''}>"
        else:
            kind = "number" if f.kind == "number" else "text"
            placeholder = html.escape(EXAMPLES.get(f.name, ""), quote=True)
            control = (
                f'<input type={kind} {attrs} placeholder="{placeholder}"'
                f"{' required' if f.required else ''}>"
            )
        inputs.append(f"<label>{label}{'' if f.required else ' (optional)'} {control}</label>")
    inputs += ["</fieldset>"] * open_sets
    credentials = (
        ""
        if anonymous
        else "<fieldset class=credentials><legend>credentials (HTTP Basic)</legend>"
        "<label>user <input name=__user autocomplete=username></label>"
        "<label>password <input type=password name=__password"
        " autocomplete=current-password></label></fieldset>"
    )
    return (
        f'<form class=try data-operation="{op.name}">'
        + "".join(inputs)
        + credentials
        + "<label>SOAP version <select name=__version><option>1.1</option>"
        "<option>1.2</option></select></label>"
        f'<button type=submit id="invoke-{op.name}">Invoke</button></form>'
        # after the form, not in it: the answer is as wide as the card
        f'<output id="status-{op.name}" class=status></output>'
        f'<pre id="result-{op.name}" class=result></pre>'
    )


def _plain_form(op: Operation) -> str:
    """For an operation that takes a file: an HTML form that needs no JavaScript, posted
    as multipart/form-data to /http/<op>; the browser asks for the user (HTTP Basic)
    and shows the answer. The file's name and type come from the file itself."""
    files = [f for f in fields(op.in_message) if f.binary and not f.structure]
    if not files:
        return ""
    inputs = "".join(
        f'<label>{html.escape(f.path)} <input type=file name="{html.escape(f.path)}"'
        f"{' required' if f.required else ''}></label>"
        for f in files
    )
    return (
        "<h3>Or from a plain HTML form</h3><p>No JavaScript needed: the browser asks for your"
        " user and password (HTTP Basic) and shows the receipt.</p>"
        f'<form class=plain method=post enctype="multipart/form-data" action="/http/{op.name}">'
        f'{inputs}<button type=submit id="plain-{op.name}">{op.name}</button></form>'
    )


def render(operations: Iterable[Operation], anonymous: frozenset[str], base_url: str) -> bytes:
    ops = list(operations)
    nav = "".join(f'<li><a href="#{op.name}">{op.name}</a></li>' for op in ops)
    sections = []
    for op in ops:
        who = "anyone" if op.name in anonymous else "a user (HTTP Basic or WS-Security)"
        action = ns.soap_action(op.name)
        sections.append(
            f'<section id="{op.name}"><h2>{op.name}</h2>'
            f"<p class=meta>SOAPAction <code>{html.escape(action)}</code> · callable by {who}"
            f' · also <a href="/http/{op.name}"><code>/http/{op.name}</code></a>'
            f' and XML-RPC method <code>{op.name}</code> (<a href="#xmlrpc">/xmlrpc</a>)</p>'
            f"<div class=doc>{doc_html(op.doc or '')}</div>"
            f"<h3>Request fields</h3>{_field_table(fields(op.in_message))}"
            f"<h3>Response fields</h3>{_field_table(fields(op.out_message))}"
            "<details><summary>Sample SOAP 1.1 request (POST /soap, Content-Type: text/xml;"
            f' SOAPAction: "{html.escape(action)}")</summary>'
            f"<pre>{html.escape(sample_envelope(op, '1.1'))}</pre></details>"
            "<details><summary>Sample SOAP 1.2 request (POST /soap12, Content-Type:"
            f' application/soap+xml; action="{html.escape(action)}")</summary>'
            f"<pre>{html.escape(sample_envelope(op, '1.2'))}</pre></details>"
            f"<h3>Try it</h3>{_form(op, op.name in anonymous)}{_plain_form(op)}</section>"
        )
    sections.append(_xmlrpc_section(ops))
    config = json.dumps({"tns": ns.TNS})
    page = _TEMPLATE.format(
        base=html.escape(base_url),
        nav=nav + '<li><a href="#xmlrpc">XML-RPC</a></li>',
        sections="".join(sections),
        config=config,
        script=_SCRIPT,
        style=_STYLE,
    )
    return page.encode("utf-8")


def _xmlrpc_section(ops: Sequence[Operation]) -> str:
    """How to call the operations over XML-RPC, and its fault codes (service.http.xmlrpc)."""
    first = ops[0].name if ops else "Greet"
    codes = "".join(
        f"<tr><td><code>{code}</code></td><td><code>{html.escape(cls.code)}</code></td></tr>"
        for cls, code in sorted(FAULT_CODES.items(), key=lambda item: item[1])
    )
    return (
        '<section id="xmlrpc"><h2>XML-RPC</h2>'
        f"<p>Every operation is also an XML-RPC method of its name at <code>POST {XMLRPC_PATH}"
        "</code>, with its parameters in order or as one struct of them, and HTTP Basic for"
        " the operations that need a user; <code>system.listMethods</code>,"
        " <code>system.methodHelp</code> and <code>system.methodSignature</code> describe"
        " them.</p><pre>import xmlrpc.client\n"
        f'proxy = xmlrpc.client.ServerProxy("http://user:password@host:port{XMLRPC_PATH}")\n'
        f'proxy.{first}("Ada")</pre>'
        "<p>A fault's <code>faultString</code> starts with the SOAP fault code; its"
        " <code>faultCode</code> is one of:</p>"
        f"<table><tr><th>faultCode</th><th>SOAP fault code</th></tr>{codes}</table></section>"
    )


_STYLE: Final = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:1em 2em}
header a{color:#cfe3ff}
main{max-width:70em;margin:0 auto;padding:1em 2em}
nav ul{display:flex;flex-wrap:wrap;gap:.4em 1.2em;padding:0;list-style:none}
section{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:.6em 1.4em 1.2em;
margin:1.2em 0}
h2{margin:.4em 0 .2em}
.meta{color:#56606b;margin:.2em 0}
pre{background:#f0f2f5;padding:.7em;overflow:auto;border-radius:4px;font-size:13px}
.doc p{margin:.5em 0}
.doc ul,.doc ol{margin:.4em 0;padding-left:1.6em}
pre.result{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;margin:.5em 0 0}
pre.result:empty{display:none}
table{border-collapse:collapse;width:100%;margin:.3em 0}
th,td{text-align:left;border-bottom:1px solid #e4e7eb;padding:.25em .4em;vertical-align:top}
form.try,form.plain{display:grid;gap:.5em;max-width:40em}
form.try label{display:grid;grid-template-columns:minmax(6em,14em) minmax(0,1fr);
align-items:center}
form.try input,form.try select{min-width:0;max-width:100%;box-sizing:border-box}
fieldset{border:1px solid #d8dde3;display:grid;gap:.4em}
button{justify-self:start;padding:.4em 1.4em;background:#1f3a5f;color:#fff;border:0;
border-radius:4px;cursor:pointer}
.status{display:block;font-weight:600;margin-top:.6em}
.status.fault{color:#a3141b}.status.ok{color:#176b2c}
"""

_SCRIPT: Final = r"""
(function () {
  const config = JSON.parse(document.getElementById('config').textContent);
  const ENV = {'1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
               '1.2': 'http://www.w3.org/2003/05/soap-envelope'};
  function escapeXml(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;');
  }
  function fileAsBase64(file) {
    return new Promise(function (resolve, reject) {
      const reader = new FileReader();
      reader.onload = function () { resolve(reader.result.split(',')[1] || ''); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(file);
    });
  }
  async function requestBody(form) {
    const tree = {};
    for (const input of form.querySelectorAll('[data-path]')) {
      let value;
      if (input.type === 'file') {
        if (!input.files.length) continue;
        value = await fileAsBase64(input.files[0]);
      } else {
        if (input.value === '') continue;
        value = escapeXml(input.value);
      }
      const steps = input.dataset.path.split('/');
      let node = tree;
      for (const step of steps.slice(0, -1)) node = node[step] = node[step] || {};
      node[steps[steps.length - 1]] = value;
    }
    function xml(node) {
      return Object.keys(node).map(function (name) {
        const value = node[name];
        const inner = typeof value === 'string' ? value : xml(value);
        return '<tns:' + name + '>' + inner + '</tns:' + name + '>';
      }).join('');
    }
    return xml(tree);
  }
  function pretty(text) {
    try {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      if (doc.getElementsByTagName('parsererror').length) return text;
      const lines = [];
      // every attribute, the xmlns declarations among them: what is shown is valid XML
      function start(node) {
        return '<' + node.nodeName + Array.from(node.attributes).map(function (a) {
          return ' ' + a.name + '="' + escapeXml(a.value) + '"';
        }).join('') + '>';
      }
      (function walk(node, depth) {
        const pad = '  '.repeat(depth);
        const elements = Array.from(node.childNodes).filter(n => n.nodeType === 1);
        if (!elements.length) {
          lines.push(pad + start(node) + escapeXml(node.textContent) + '</' + node.nodeName + '>');
          return;
        }
        lines.push(pad + start(node));
        elements.forEach(child => walk(child, depth + 1));
        lines.push(pad + '</' + node.nodeName + '>');
      })(doc.documentElement, 0);
      return lines.join('\n');
    } catch (e) { return text; }
  }
  // a chosen file names the upload: filename and content_type beside it, when empty
  function fillFromFile(form, input) {
    const file = input.files[0];
    if (!file) return;
    const prefix = input.dataset.path.replace(/[^/]*$/, '');
    const labels = {filename: file.name, content_type: file.type};
    for (const name of Object.keys(labels)) {
      const field = form.querySelector('[data-path="' + prefix + name + '"]');
      if (field && field.type !== 'file' && field.value === '' && labels[name]) {
        field.value = labels[name];
      }
    }
  }
  for (const form of document.querySelectorAll('form.try')) {
    for (const input of form.querySelectorAll('input[type=file][data-path]')) {
      input.addEventListener('change', function () { fillFromFile(form, input); });
    }
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      const op = form.dataset.operation;
      const status = document.getElementById('status-' + op);
      const result = document.getElementById('result-' + op);
      status.textContent = 'calling...';
      status.className = 'status';
      const version = form.elements.__version.value;
      const action = config.tns + '/' + op;
      const envelope = '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="' +
        ENV[version] + '" xmlns:tns="' + config.tns + '"><soap:Body><tns:' + op + '>' +
        await requestBody(form) + '</tns:' + op + '></soap:Body></soap:Envelope>';
      const headers = version === '1.1'
        ? {'Content-Type': 'text/xml; charset=utf-8', 'SOAPAction': '"' + action + '"'}
        : {'Content-Type': 'application/soap+xml; charset=utf-8; action="' + action + '"'};
      if (form.elements.__user && form.elements.__user.value) {
        const pair = form.elements.__user.value + ':' + form.elements.__password.value;
        headers['Authorization'] = 'Basic ' + btoa(unescape(encodeURIComponent(pair)));
      }
      try {
        const response = await fetch(version === '1.1' ? '/soap' : '/soap12',
                                     {method: 'POST', headers: headers, body: envelope});
        const text = await response.text();
        const fault = /<(\w+:)?Fault[\s>]/.test(text);
        status.textContent = 'HTTP ' + response.status + (fault ? ' · SOAP fault' : ' · OK');
        status.className = 'status ' + (fault ? 'fault' : 'ok');
        result.textContent = pretty(text);
      } catch (error) {
        status.textContent = 'no answer: ' + error;
        status.className = 'status fault';
      }
    });
  }
})();
"""

_TEMPLATE: Final = """<!DOCTYPE html>
<html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>soap-service</title>
<link rel=icon href="data:,"><style>{style}</style></head>
<body><header><h1>soap-service</h1>
<p>A SOAP 1.1 and 1.2 service at <code>{base}</code>.
<a href="/soap?wsdl">WSDL</a> ·
<a href="/soapui-project.xml" download>SoapUI project</a> ·
SOAP 1.1 endpoint <code>/soap</code> · SOAP 1.2 endpoint <code>/soap12</code> ·
plain HTTP/JSON under <code>/http/&lt;Operation&gt;</code>
(<a href="/openapi.json">OpenAPI description</a>,
<a href="#plain-UploadImage">upload from a plain form</a>) ·
<a href="#xmlrpc">XML-RPC</a> at <code>/xmlrpc</code> ·
<a href="/metrics">metrics</a> · <a href="/healthz">health</a></p></header>
<main><nav><ul>{nav}</ul></nav>{sections}</main>
<script type="application/json" id=config>{config}</script>
<script>{script}</script></body></html>
"""
